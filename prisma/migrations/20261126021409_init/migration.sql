-- Extensions used by the directory (geo distance, fuzzy name matching). Created here by hand,
-- in this order, rather than through the schema's postgresqlExtensions preview: the embedded database
-- needs cube before pg_trgm (see src/db/pglite.ts), and later migrations stay free of repeats.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- CreateTable
CREATE TABLE "system_state" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "system_state_pkey" PRIMARY KEY ("key")
);
