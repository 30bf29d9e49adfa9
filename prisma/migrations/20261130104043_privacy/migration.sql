-- AlterTable
ALTER TABLE "journal_entries" ADD COLUMN     "crisis_flag" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "user_settings" (
    "user_id" UUID NOT NULL,
    "journal_retention_days" INTEGER,
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_settings_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "access_records" (
    "id" UUID NOT NULL,
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL DEFAULT 0,
    "user_id" UUID,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "principal_kind" TEXT NOT NULL,
    "principal_id" TEXT,
    "action" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT,
    "item_count" INTEGER,
    "request_id" TEXT,
    "prev_hash" TEXT NOT NULL DEFAULT '',
    "hash" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "access_records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "access_chains" (
    "chain" TEXT NOT NULL,
    "user_id" UUID,
    "seq" BIGINT NOT NULL,
    "head" TEXT NOT NULL,

    CONSTRAINT "access_chains_pkey" PRIMARY KEY ("chain")
);

-- CreateIndex
CREATE INDEX "access_records_user_id_idx" ON "access_records"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "access_records_chain_seq_key" ON "access_records"("chain", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "access_chains_user_id_key" ON "access_chains"("user_id");

-- AddForeignKey
ALTER TABLE "user_settings" ADD CONSTRAINT "user_settings_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "access_records" ADD CONSTRAINT "access_records_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "access_chains" ADD CONSTRAINT "access_chains_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written below: the access trail's chain and its append-only guard, which schema.prisma cannot
-- express (Prisma's diff does not see functions or triggers, so the drift check holds).

-- A record as the hash covers it: every column but the hashes themselves, each as `<bytes>:<value>`
-- (`~` for null) joined by `|`, so no value can be shifted into its neighbour. `at` is in epoch
-- milliseconds. src/lib/access-trail.ts computes the same string, and `npm run audit:verify` recomputes
-- every hash from it.
CREATE FUNCTION access_record_canonical(r access_records) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|',
        VARIADIC ARRAY(
            SELECT CASE WHEN f IS NULL THEN '~' ELSE octet_length(f)::text || ':' || f END
              FROM unnest(ARRAY[
                  r.id::text, r.chain, r.seq::text, r.user_id::text,
                  (extract(epoch FROM r.at) * 1000)::bigint::text,
                  r.principal_kind, r.principal_id, r.action, r.resource_type, r.resource_id,
                  r.item_count::text, r.request_id
              ]) WITH ORDINALITY AS t(f, n)
             ORDER BY n))
$$;

-- Chains a new record to its chain's head. The head row is locked until the transaction ends, so one
-- chain's records are appended one at a time and two writers can never fork it; other users' chains
-- are not held up. The first record of a chain starts from 64 zeros.
CREATE FUNCTION access_records_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    IF NEW.user_id IS NOT NULL AND NEW.chain <> NEW.user_id::text THEN
        RAISE EXCEPTION 'access_records: a user''s records belong to the chain named by their id';
    END IF;
    INSERT INTO access_chains (chain, user_id, seq, head) VALUES (NEW.chain, NEW.user_id, 0, repeat('0', 64))
        ON CONFLICT (chain) DO NOTHING;
    SELECT c.seq, c.head INTO head_seq, head_hash FROM access_chains c WHERE c.chain = NEW.chain FOR UPDATE;
    NEW.at := date_trunc('milliseconds', NEW.at);
    NEW.seq := head_seq + 1;
    NEW.prev_hash := head_hash;
    NEW.hash := encode(sha256(convert_to(head_hash || '|' || access_record_canonical(NEW), 'UTF8')), 'hex');
    UPDATE access_chains SET seq = NEW.seq, head = NEW.hash WHERE chain = NEW.chain;
    RETURN NEW;
END
$$;

CREATE TRIGGER access_records_chain BEFORE INSERT ON access_records FOR EACH ROW EXECUTE FUNCTION access_records_chain();

-- Append-only. The one sanctioned removal is a user's own rows while their account is deleted: the
-- account service names the user in the transaction-local setting `therapath.erasing_user` and deletes
-- the user, and ON DELETE CASCADE removes their rows through this check. Anyone else's DELETE, any
-- UPDATE (including the FK's ON UPDATE CASCADE) and TRUNCATE are refused.
CREATE FUNCTION access_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.user_id IS NOT NULL
       AND OLD.user_id::text = current_setting('therapath.erasing_user', true) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_records is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_records_no_update BEFORE UPDATE ON access_records FOR EACH ROW EXECUTE FUNCTION access_records_append_only();
CREATE TRIGGER access_records_no_delete BEFORE DELETE ON access_records FOR EACH ROW EXECUTE FUNCTION access_records_append_only();
CREATE TRIGGER access_records_no_truncate BEFORE TRUNCATE ON access_records FOR EACH STATEMENT EXECUTE FUNCTION access_records_append_only();
