-- CreateTable
CREATE TABLE "instrument_versions" (
    "instrument_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "definition" JSONB NOT NULL,
    "content_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "instrument_versions_pkey" PRIMARY KEY ("instrument_id","version")
);

-- CreateTable
CREATE TABLE "assessments" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "instrument_id" TEXT NOT NULL,
    "instrument_version" INTEGER NOT NULL,
    "answers" JSONB NOT NULL,
    "score" INTEGER NOT NULL,
    "band_key" TEXT NOT NULL,
    "result" JSONB NOT NULL,
    "safety_alert" BOOLEAN NOT NULL,
    "taken_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "assessments_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "assessments_user_id_taken_at_id_idx" ON "assessments"("user_id", "taken_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "assessments_user_id_instrument_id_taken_at_id_idx" ON "assessments"("user_id", "instrument_id", "taken_at", "id");

-- AddForeignKey
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_instrument_id_instrument_version_fkey" FOREIGN KEY ("instrument_id", "instrument_version") REFERENCES "instrument_versions"("instrument_id", "version") ON DELETE RESTRICT ON UPDATE RESTRICT;
