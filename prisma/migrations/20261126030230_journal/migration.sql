-- CreateTable
CREATE TABLE "journal_entries" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "mood" SMALLINT NOT NULL,
    "emotions" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "conflict_response" TEXT,
    "conflict_intensity" SMALLINT,
    "key_id" TEXT NOT NULL,
    "body_enc" BYTEA NOT NULL,
    "title_enc" BYTEA,
    "trigger_enc" BYTEA,
    "response_note_enc" BYTEA,
    "outcome_enc" BYTEA,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "journal_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "journal_entries_user_id_occurred_at_id_idx" ON "journal_entries"("user_id", "occurred_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "journal_entries_emotions_idx" ON "journal_entries" USING GIN ("emotions");

-- CreateIndex
CREATE INDEX "journal_entries_tags_idx" ON "journal_entries" USING GIN ("tags");

-- AddForeignKey
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_entries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
