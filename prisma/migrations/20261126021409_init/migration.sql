-- Extensions for distance search in the directory (nearest-first on a GiST index). Created here by
-- hand rather than through the schema's postgresqlExtensions preview, so later migrations do not repeat
-- them. pg_trgm is left out on purpose: loaded beside cube, the embedded database (PGlite 0.5.16)
-- intermittently answers trigram queries with no rows and then hangs (see src/db/pglite.ts).
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

-- CreateTable
CREATE TABLE "system_state" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "system_state_pkey" PRIMARY KEY ("key")
);
