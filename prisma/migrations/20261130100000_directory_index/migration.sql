-- AlterTable
ALTER TABLE "therapist" ADD COLUMN     "change_seq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "row_no" SERIAL NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "therapist_row_no_key" ON "therapist"("row_no");
-- Hand-written below: what schema.prisma cannot express.
--
-- The directory index (src/modules/directory/index/) holds every live therapist in the memory of each
-- instance and follows every write through a change feed. It keys therapists by `row_no` (a notification
-- carries hundreds of them; ids are 36 characters), and orders re-reads by `change_seq`.

-- Every write of a row takes a higher number, so an instance that re-reads a row twice (a notification
-- and its own write) never lets the older read undo the newer one. Writers of one row are serialized by
-- its lock, and this runs after the lock is taken, so the numbers follow the order of commits.
CREATE SEQUENCE "therapist_change_seq";
CREATE FUNCTION therapist_change_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval('therapist_change_seq');
    RETURN NEW;
END
$$;
CREATE TRIGGER "therapist_change_seq" BEFORE INSERT OR UPDATE ON "therapist" FOR EACH ROW EXECUTE FUNCTION therapist_change_seq();

-- The change feed: after each statement that writes therapists, one NOTIFY per 800 changed row numbers
-- (a payload must stay under 8000 bytes). Postgres delivers it to every listening instance when the
-- transaction commits, and never for one that rolls back. One trigger per event, as transition tables need.
CREATE FUNCTION therapist_notify_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    batch text;
BEGIN
    FOR batch IN
        SELECT string_agg(row_no::text, ',') FROM (SELECT row_no, (row_number() OVER () - 1) / 800 AS part FROM changed) numbered GROUP BY part
    LOOP
        PERFORM pg_notify('therapist_changes', batch);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER "therapist_notify_insert" AFTER INSERT ON "therapist" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION therapist_notify_changes();
CREATE TRIGGER "therapist_notify_update" AFTER UPDATE ON "therapist" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION therapist_notify_changes();
CREATE TRIGGER "therapist_notify_delete" AFTER DELETE ON "therapist" REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION therapist_notify_changes();

-- Names sort by code point on every database: the index orders names in Node that way, and a cursor
-- from one path must continue in the other. Databases created with the C or C.UTF-8 locale (Debian's
-- default here, PGlite's) already sort so; on any other, the column moves to the "C" collation, which
-- means rebuilding the search vectors generated from it (as in the directory migration).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = current_database()
                   AND datlocprovider IN ('c', 'b') AND datcollate IN ('C', 'POSIX', 'C.UTF-8', 'C.utf8')) THEN
        ALTER TABLE "therapist" DROP COLUMN "search_vector", DROP COLUMN "tags_vector";
        ALTER TABLE "therapist" ALTER COLUMN "name" SET DATA TYPE TEXT COLLATE "C";
        ALTER TABLE "therapist" ADD COLUMN "search_vector" tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, "name"), 'A') ||
            setweight(to_tsvector('english'::regconfig, "search_keywords"), 'B') ||
            setweight(to_tsvector('english'::regconfig, "bio"), 'C')
        ) STORED;
        ALTER TABLE "therapist" ALTER COLUMN "search_vector" SET STORAGE MAIN;
        ALTER TABLE "therapist" ADD COLUMN "tags_vector" tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, "name"), 'A') ||
            setweight(to_tsvector('english'::regconfig, "search_keywords"), 'B')
        ) STORED;
        CREATE INDEX "therapist_search_vector_idx" ON "therapist" USING GIN ("search_vector");
        CREATE INDEX "therapist_tags_vector_idx" ON "therapist" USING GIN ("tags_vector");
    END IF;
END
$$;

-- Facet bitmasks (the SQL path's facet counts) hold 63 terms per vocabulary: refuse a 64th rather than
-- let its bit wrap into another term's.
ALTER TABLE "vocabulary_term" ADD CONSTRAINT "vocabulary_term_facet_bit" CHECK ("sort_order" BETWEEN 1 AND 63);
