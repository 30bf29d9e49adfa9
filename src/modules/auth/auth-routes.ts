import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Config } from '../../config.js'
import { selfActor } from '../../lib/access-trail.js'
import { problemResponses } from '../../lib/problem.js'
import { LoginBodySchema, RefreshBodySchema, RegisterBodySchema, TokenPairSchema } from './auth-schemas.js'
import { sha256Hex } from '../../lib/hash.js'
import { createAuthService } from './auth-service.js'
import type { TokenService } from './tokens.js'

/**
 * End-user sign-up and sessions. Each route takes credentials, so each has a strict per-IP limit
 * (shared across them as one group) and a per-account one.
 */
export const authRoutes: FastifyPluginAsyncZod<{ config: Config; tokens: TokenService }> = async (app, { config, tokens }) => {
  const auth = createAuthService({ prisma: app.db.prisma, tokens, config })
  // These routes have their own, stricter limits (app.limitCredentials) instead of the general one.
  const rateLimit = false as const

  app.post(
    '/register',
    {
      config: { rateLimit },
      preHandler: (request, reply) => app.limitCredentials(request, reply, `register:${request.body.email}`),
      schema: {
        tags: ['auth'],
        operationId: 'registerUser',
        summary: 'Create an account and sign in',
        description: 'Creates a password account for an end user and returns their first token pair.',
        body: RegisterBodySchema,
        response: { 201: TokenPairSchema, ...problemResponses(400, 409, 415) },
      },
    },
    async (request, reply) => reply.status(201).send(await auth.register(request.body, selfActor(request))),
  )

  app.post(
    '/login',
    {
      config: { rateLimit },
      preHandler: (request, reply) => app.limitCredentials(request, reply, `login:${request.body.email}`),
      schema: {
        tags: ['auth'],
        operationId: 'loginUser',
        summary: 'Sign in with email and password',
        description: 'Answers 401 `invalid_credentials` alike for an unknown email and a wrong password.',
        body: LoginBodySchema,
        response: { 200: TokenPairSchema, ...problemResponses(400, 401, 415) },
      },
    },
    async (request) => auth.login(request.body, selfActor(request)),
  )

  app.post(
    '/refresh',
    {
      config: { rateLimit },
      preHandler: (request, reply) => app.limitCredentials(request, reply, `refresh:${sha256Hex(request.body.refreshToken).slice(0, 24)}`),
      schema: {
        tags: ['auth'],
        operationId: 'refreshTokens',
        summary: 'Exchange a refresh token for a new token pair',
        description:
          'Each refresh token works once: the response carries the next one. Presenting a spent refresh token within 10 seconds of its use ' +
          'answers 401 `refresh_token_spent` and ends nothing (a retry or a concurrent refresh: the request that spent it received the live pair). ' +
          'Presenting it later ends its whole session (every token descended from the same sign-in), since it means the token leaked.',
        body: RefreshBodySchema,
        response: { 200: TokenPairSchema, ...problemResponses(400, 401, 415) },
      },
    },
    async (request) => auth.refresh(request.body.refreshToken),
  )

  app.post(
    '/logout',
    {
      schema: {
        tags: ['auth'],
        operationId: 'logoutUser',
        summary: 'End the session a refresh token belongs to',
        description: 'Revokes the session: its refresh tokens and the access tokens issued in it stop working at once. Always 204.',
        body: RefreshBodySchema,
        response: { 204: z.null().describe('Signed out'), ...problemResponses(400, 415) },
      },
    },
    async (request, reply) => {
      await auth.logout(request.body.refreshToken, selfActor(request))
      return reply.status(204).send(null)
    },
  )
}
