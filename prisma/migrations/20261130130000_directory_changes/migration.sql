-- AlterTable
ALTER TABLE "therapist" ADD COLUMN     "offices_hash" TEXT;

-- CreateTable
CREATE TABLE "therapist_event" (
    "position" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "type" TEXT NOT NULL,
    "therapist_id" UUID NOT NULL,
    "changed_fields" TEXT[],
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "therapist_event_pkey" PRIMARY KEY ("position")
);

-- CreateTable
CREATE TABLE "webhook_endpoint" (
    "id" UUID NOT NULL,
    "client_id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "event_types" TEXT[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "secret_sealed" BYTEA NOT NULL,
    "secret_key_id" TEXT NOT NULL,
    "previous_sealed" BYTEA,
    "previous_key_id" TEXT,
    "previous_expires_at" TIMESTAMPTZ(3),
    "cursor" BIGINT NOT NULL DEFAULT 0,
    "failing_since" TIMESTAMPTZ(3),
    "disabled_at" TIMESTAMPTZ(3),
    "disabled_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_delivery" (
    "id" UUID NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "message_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "therapist_id" UUID,
    "position" BIGINT,
    "payload" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "lease_until" TIMESTAMPTZ(3),
    "lease_token" UUID,
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "last_latency_ms" INTEGER,
    "give_up_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "therapist_event_id_key" ON "therapist_event"("id");

-- CreateIndex
CREATE INDEX "webhook_endpoint_client_id_idx" ON "webhook_endpoint"("client_id");

-- CreateIndex
CREATE INDEX "webhook_delivery_status_next_attempt_at_idx" ON "webhook_delivery"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_delivery_endpoint_id_therapist_id_position_idx" ON "webhook_delivery"("endpoint_id", "therapist_id", "position");

-- CreateIndex
CREATE INDEX "webhook_delivery_endpoint_id_created_at_idx" ON "webhook_delivery"("endpoint_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_delivery_endpoint_id_message_id_key" ON "webhook_delivery"("endpoint_id", "message_id");

-- AddForeignKey
ALTER TABLE "webhook_delivery" ADD CONSTRAINT "webhook_delivery_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written below: what schema.prisma cannot express.
--
-- The change log (outbox). Every statement that writes therapists appends, in its own transaction, one
-- event per therapist created, changed or removed: through any instance, an import batch, a patch or
-- plain SQL. A write that rolls back appends nothing (its events roll back with it).
--
-- Positions follow commit order. Each appending statement first takes one transaction-level advisory
-- lock and only then draws positions from the sequence; the lock is released after the transaction's
-- commit is visible. So whoever draws positions next has already seen every lower position committed
-- (or rolled back), and a reader that has read up to p can never later find a committed event below p.
-- Writers of the directory serialize only on that last step (the trigger and the commit), not on the
-- statement itself. Gaps are possible (a rolled-back write's positions are not reused).

CREATE FUNCTION therapist_event_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A statement that wrote no row (an upsert batch's empty UPDATE part) appends nothing and takes no lock.
    IF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM old_rows LIMIT 1;
    ELSE
        PERFORM 1 FROM new_rows LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- "therapist_event" folded into a bigint: the lock that orders positions by commit (held until the transaction ends).
    PERFORM pg_advisory_xact_lock(7346514205118551);
    IF TG_OP = 'INSERT' THEN
        INSERT INTO therapist_event (type, therapist_id)
        SELECT 'therapist.created', n.id FROM new_rows n WHERE n.deleted_at IS NULL;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO therapist_event (type, therapist_id)
        SELECT 'therapist.deleted', o.id FROM old_rows o WHERE o.deleted_at IS NULL;
    ELSE
        INSERT INTO therapist_event (type, therapist_id, changed_fields)
        SELECT c.type, c.id, CASE WHEN c.type = 'therapist.updated' THEN c.fields END
        FROM (
            SELECT n.id,
                   CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN 'therapist.deleted'
                        WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'therapist.created'
                        WHEN n.deleted_at IS NULL THEN 'therapist.updated' END AS type,
                   -- Changed fields by their API names (the profile's top-level members); the license's four columns are one field.
                   array_remove(ARRAY[
            CASE WHEN n.external_id IS DISTINCT FROM o.external_id THEN 'externalId' END,
            CASE WHEN n.name IS DISTINCT FROM o.name THEN 'name' END,
            CASE WHEN n.pronouns IS DISTINCT FROM o.pronouns THEN 'pronouns' END,
            CASE WHEN n.credentials IS DISTINCT FROM o.credentials THEN 'credentials' END,
            CASE WHEN (n.license_type, n.license_number, n.license_state, n.licensed_states)
            IS DISTINCT FROM (o.license_type, o.license_number, o.license_state, o.licensed_states) THEN 'license' END,
            CASE WHEN n.npi IS DISTINCT FROM o.npi THEN 'npi' END,
            CASE WHEN n.bio IS DISTINCT FROM o.bio THEN 'bio' END,
            CASE WHEN n.years_in_practice IS DISTINCT FROM o.years_in_practice THEN 'yearsInPractice' END,
            CASE WHEN n.modalities IS DISTINCT FROM o.modalities THEN 'modalities' END,
            CASE WHEN n.specialties IS DISTINCT FROM o.specialties THEN 'specialties' END,
            CASE WHEN n.client_focus IS DISTINCT FROM o.client_focus THEN 'clientFocus' END,
            CASE WHEN n.formats IS DISTINCT FROM o.formats THEN 'formats' END,
            CASE WHEN n.languages IS DISTINCT FROM o.languages THEN 'languages' END,
            CASE WHEN n.fee_min IS DISTINCT FROM o.fee_min THEN 'feeMin' END,
            CASE WHEN n.fee_max IS DISTINCT FROM o.fee_max THEN 'feeMax' END,
            CASE WHEN n.sliding_scale IS DISTINCT FROM o.sliding_scale THEN 'slidingScale' END,
            CASE WHEN n.insurance IS DISTINCT FROM o.insurance THEN 'insurance' END,
            CASE WHEN n.accepting_new_clients IS DISTINCT FROM o.accepting_new_clients THEN 'acceptingNewClients' END,
            CASE WHEN n.accepting_verified_at IS DISTINCT FROM o.accepting_verified_at THEN 'acceptingNewClientsVerifiedAt' END,
            -- Offices live in their own table; the write path stores a hash of them. A row not written since this
            -- migration has none yet: its first write reports offices as changed (over-reporting, never missing).
            CASE WHEN n.offices_hash IS DISTINCT FROM o.offices_hash THEN 'offices' END
            ], NULL) AS fields
            FROM new_rows n JOIN old_rows o ON o.id = n.id
        ) c
        WHERE c.type IS NOT NULL AND (c.type <> 'therapist.updated' OR cardinality(c.fields) > 0);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER "therapist_event_insert" AFTER INSERT ON "therapist" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION therapist_event_append();
CREATE TRIGGER "therapist_event_update" AFTER UPDATE ON "therapist" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION therapist_event_append();
CREATE TRIGGER "therapist_event_delete" AFTER DELETE ON "therapist" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION therapist_event_append();
