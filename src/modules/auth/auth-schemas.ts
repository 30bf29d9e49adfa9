import { z } from 'zod'
import { UserSchema } from '../../lib/user.js'

/** Trimmed, NFC, lower case: one account per mailbox however it is typed. */
export const normalizeEmail = (email: string): string => email.trim().normalize('NFC').toLowerCase()

export const EmailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ error: 'Must be an email address.' }))
  .transform(normalizeEmail)
  .describe('Email address; matched case-insensitively.')

export const RegisterBodySchema = z
  .object({
    email: EmailSchema,
    password: z.string().max(1024).describe('At least 10 characters; very common passwords are refused. No composition rules.'),
    displayName: z.string().trim().min(1).max(100).optional(),
  })
  .meta({ id: 'RegisterRequest', example: { email: 'sam@example.com', password: 'a long and personal passphrase', displayName: 'Sam' } })

export const LoginBodySchema = z
  .object({ email: EmailSchema, password: z.string().min(1).max(1024) })
  .meta({ id: 'LoginRequest', example: { email: 'sam@example.com', password: 'a long and personal passphrase' } })

export const RefreshBodySchema = z
  .object({ refreshToken: z.string().min(1).max(200).describe('The refresh token from the last sign-in or refresh; each is usable once.') })
  .meta({ id: 'RefreshRequest', example: { refreshToken: 'tpr_3q2+7w…' } })

export const TokenPairSchema = z
  .object({
    user: UserSchema,
    accessToken: z.string().describe('JWT for `Authorization: Bearer`; short-lived.'),
    refreshToken: z.string().describe('Opaque; exchange it at /v1/auth/refresh before it expires. Each is usable once.'),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().describe('Seconds until the access token expires.'),
    scope: z.string().describe('Space-separated scopes the access token carries.'),
  })
  .meta({
    id: 'TokenPair',
    example: {
      user: { id: '5f0c2a8e-1b7d-4c1e-9a3f-2d6b8e4f7a10', email: 'sam@example.com', displayName: 'Sam', createdAt: '2026-11-26T09:00:00.000Z' },
      accessToken: 'eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl',
      refreshToken: 'tpr_8Zq3vY0m0kqQ9n2b3JmN1x7yC5tW4uR6sD8fG0hJ2kL',
      tokenType: 'Bearer',
      expiresIn: 900,
      scope: 'directory:read assessments:read assessments:write journal:read journal:write',
    },
  })

export type TokenPair = z.infer<typeof TokenPairSchema>
