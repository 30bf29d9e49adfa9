-- CreateTable
CREATE TABLE "vocabulary_term" (
    "kind" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "aliases" TEXT[],
    "family" TEXT,
    "description" TEXT NOT NULL,
    "nucc_code" TEXT,
    "sort_order" INTEGER NOT NULL,

    CONSTRAINT "vocabulary_term_pkey" PRIMARY KEY ("kind","slug")
);

-- CreateTable
CREATE TABLE "therapist" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "external_id" TEXT,
    "name" TEXT NOT NULL,
    "pronouns" TEXT,
    "credentials" TEXT[],
    "license_type" TEXT NOT NULL,
    "license_number" TEXT,
    "license_state" TEXT NOT NULL,
    "licensed_states" TEXT[],
    "npi" TEXT,
    "bio" TEXT NOT NULL DEFAULT '',
    "years_in_practice" INTEGER,
    "modalities" TEXT[],
    "specialties" TEXT[],
    "client_focus" TEXT[],
    "formats" TEXT[],
    "languages" TEXT[],
    "insurance" TEXT[],
    "fee_min" INTEGER,
    "fee_max" INTEGER,
    "sliding_scale" BOOLEAN NOT NULL DEFAULT false,
    "accepting_new_clients" BOOLEAN NOT NULL,
    "accepting_verified_at" TIMESTAMPTZ(3),
    "office_states" TEXT[],
    "primary_city" TEXT,
    "primary_state" TEXT,
    "primary_postal_code" TEXT,
    "modality_bits" BIGINT NOT NULL DEFAULT 0,
    "specialty_bits" BIGINT NOT NULL DEFAULT 0,
    "format_bits" BIGINT NOT NULL DEFAULT 0,
    "client_focus_bits" BIGINT NOT NULL DEFAULT 0,
    "license_bits" BIGINT NOT NULL DEFAULT 0,
    "card_json" TEXT NOT NULL DEFAULT '',
    "location_json" TEXT NOT NULL DEFAULT 'null',
    "search_keywords" TEXT NOT NULL DEFAULT '',
    "search_vector" tsvector,
    "tags_vector" tsvector,
    "content_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "therapist_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "therapist_office" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "therapist_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "street" TEXT NOT NULL,
    "city" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "postal_code" TEXT NOT NULL,
    "latitude" DOUBLE PRECISION NOT NULL,
    "longitude" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "therapist_office_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "therapist_external_id_key" ON "therapist"("external_id");

-- CreateIndex
CREATE INDEX "therapist_name_id_idx" ON "therapist"("name", "id");

-- CreateIndex
CREATE INDEX "therapist_accepting_new_clients_name_id_idx" ON "therapist"("accepting_new_clients", "name", "id");

-- CreateIndex
CREATE INDEX "therapist_primary_state_name_id_idx" ON "therapist"("primary_state", "name", "id");

-- CreateIndex
CREATE INDEX "therapist_primary_state_accepting_new_clients_name_id_idx" ON "therapist"("primary_state", "accepting_new_clients", "name", "id");

-- CreateIndex
CREATE INDEX "therapist_modalities_idx" ON "therapist" USING GIN ("modalities");

-- CreateIndex
CREATE INDEX "therapist_specialties_idx" ON "therapist" USING GIN ("specialties");

-- CreateIndex
CREATE INDEX "therapist_office_states_idx" ON "therapist" USING GIN ("office_states");

-- CreateIndex
CREATE INDEX "therapist_licensed_states_idx" ON "therapist" USING GIN ("licensed_states");

-- CreateIndex
CREATE INDEX "therapist_search_vector_idx" ON "therapist" USING GIN ("search_vector");

-- CreateIndex
CREATE INDEX "therapist_tags_vector_idx" ON "therapist" USING GIN ("tags_vector");

-- CreateIndex
CREATE INDEX "therapist_office_therapist_id_idx" ON "therapist_office"("therapist_id");

-- AddForeignKey
ALTER TABLE "therapist_office" ADD CONSTRAINT "therapist_office_therapist_id_fkey" FOREIGN KEY ("therapist_id") REFERENCES "therapist"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- Hand-written below: what schema.prisma cannot express. Prisma's diff ignores expression indexes,
-- and sees search_vector as the Unsupported("tsvector") column it models, so the drift check holds.

-- Full text over name (weight A), modality/specialty names and aliases (B, kept in search_keywords by
-- the directory service) and bio (C). Stored, not an expression index: ranking reads the stored vector
-- instead of re-parsing each candidate's bio (4.5 ms → 0.5 ms in the notes' measurements).
ALTER TABLE "therapist" DROP COLUMN "search_vector";
ALTER TABLE "therapist" ADD COLUMN "search_vector" tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, "name"), 'A') ||
    setweight(to_tsvector('english'::regconfig, "search_keywords"), 'B') ||
    setweight(to_tsvector('english'::regconfig, "bio"), 'C')
) STORED;
-- Keep the vector in the row (compressed if need be) rather than in TOAST: matching and ranking read it
-- for every candidate, and out of line that cost two extra page reads per row (133 ms → see the plans doc).
ALTER TABLE "therapist" ALTER COLUMN "search_vector" SET STORAGE MAIN;
CREATE INDEX "therapist_search_vector_idx" ON "therapist" USING GIN ("search_vector");

-- Relevance tiers: a match in the name or in the therapist's own modalities and specialties (this small
-- vector) ranks above a match found only in the bio. Ranking every match by ts_rank read every matching
-- row (12k for "grief" at 100k, 100+ ms); tiers are answered by an ordered index scan that stops after a
-- page (2.5 ms). See docs/directory-query-plans.md.
ALTER TABLE "therapist" DROP COLUMN "tags_vector";
ALTER TABLE "therapist" ADD COLUMN "tags_vector" tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, "name"), 'A') ||
    setweight(to_tsvector('english'::regconfig, "search_keywords"), 'B')
) STORED;
CREATE INDEX "therapist_tags_vector_idx" ON "therapist" USING GIN ("tags_vector");

-- Nearest-first distance search: a KNN scan (ORDER BY ll_to_earth(...) <-> point) that also answers
-- the radius box (earth_box @>) on the same index.
CREATE INDEX "therapist_office_earth_idx" ON "therapist_office" USING GIST (ll_to_earth("latitude", "longitude"));

-- state=XX by name: an ordered scan of (primary_state[, accepting], name, id) for therapists whose first
-- office is in the state, merged with the few whose other offices are (this index holds only therapists
-- with offices in several states). Filtering office_states in-row instead read ~600 rows per page.
CREATE INDEX "therapist_multi_office_states_idx" ON "therapist" USING GIN ((CASE WHEN cardinality("office_states") > 1 THEN "office_states" END));

-- sort=fee: an ordered scan on the lowest fee (no fee listed sorts last), tie-broken by id.
CREATE INDEX "therapist_fee_sort_idx" ON "therapist" ((COALESCE("fee_min", 2147483647)), "id");
-- Search hits are JSON built by Postgres. Their static members (everything but where the therapist is
-- and why they matched) are kept ready in card_json by this trigger, so a page reads one text column
-- per hit instead of formatting fifteen columns and their arrays (at 100k therapists that was 2.3k
-- against ~8k pages a second on two cores; see docs/directory-query-plans.md). The card is written
-- without its closing brace; the search appends "location" and "match". It is a cache of this row
-- only, recomputed on every insert and update of it, so it cannot go stale.
--
-- The same trigger keeps one bitmask per facet: bit n-1 is the vocabulary term with sort_order n (so terms
-- are appended, never renumbered; at most 63 per kind). Counting facets then adds bits of one scan instead of
-- unnesting arrays into a hash aggregate.
CREATE FUNCTION therapist_card() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT COALESCE(bit_or(1::bigint << (v.sort_order - 1)) FILTER (WHERE v.kind = 'modality' AND v.slug = ANY(NEW.modalities)), 0),
           COALESCE(bit_or(1::bigint << (v.sort_order - 1)) FILTER (WHERE v.kind = 'specialty' AND v.slug = ANY(NEW.specialties)), 0),
           COALESCE(bit_or(1::bigint << (v.sort_order - 1)) FILTER (WHERE v.kind = 'format' AND v.slug = ANY(NEW.formats)), 0),
           COALESCE(bit_or(1::bigint << (v.sort_order - 1)) FILTER (WHERE v.kind = 'client_focus' AND v.slug = ANY(NEW.client_focus)), 0),
           COALESCE(bit_or(1::bigint << (v.sort_order - 1)) FILTER (WHERE v.kind = 'license_type' AND v.slug = NEW.license_type), 0)
      INTO NEW.modality_bits, NEW.specialty_bits, NEW.format_bits, NEW.client_focus_bits, NEW.license_bits
      FROM vocabulary_term v;
    SELECT left(row_to_json(c)::text, -1) INTO NEW.card_json FROM (SELECT
        NEW.id AS id, NEW.name AS name, NEW.pronouns AS pronouns, NEW.credentials AS credentials,
        NEW.license_type AS "licenseType", NEW.license_state AS "licenseState",
        NEW.modalities AS modalities, NEW.specialties AS specialties, NEW.client_focus AS "clientFocus",
        NEW.formats AS formats, NEW.languages AS languages,
        NEW.fee_min AS "feeMin", NEW.fee_max AS "feeMax", NEW.sliding_scale AS "slidingScale",
        NEW.accepting_new_clients AS "acceptingNewClients",
        to_char(NEW.accepting_verified_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "acceptingNewClientsVerifiedAt"
    ) c;
    IF NEW.primary_city IS NULL THEN
        NEW.location_json := 'null';
    ELSE
        SELECT row_to_json(l)::text INTO NEW.location_json
        FROM (SELECT NEW.primary_city AS city, NEW.primary_state AS state, NEW.primary_postal_code AS "postalCode") l;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER "therapist_card" BEFORE INSERT OR UPDATE ON "therapist" FOR EACH ROW EXECUTE FUNCTION therapist_card();

-- Vocabularies (data, not schema): later changes come as new migrations.
INSERT INTO "vocabulary_term" ("kind", "slug", "name", "aliases", "family", "description", "nucc_code", "sort_order") VALUES
  ('modality', 'cbt', 'Cognitive Behavioral Therapy', ARRAY['CBT', 'Cognitive Behavioural Therapy', 'Cognitive-Behavioral Therapy', 'Cognitive Therapy']::text[], 'cognitive-behavioral', 'You and the therapist look at how your thoughts, feelings and actions feed each other, and practise new ways of thinking and responding. It is structured and practical, often with short exercises to try between sessions.', NULL, 1),
  ('modality', 'dbt', 'Dialectical Behavior Therapy', ARRAY['DBT', 'Dialectical Behaviour Therapy']::text[], 'cognitive-behavioral', 'A skills-based therapy that teaches ways to handle intense emotions, get through crises and keep relationships steady. It balances accepting yourself as you are with learning to change, and often combines individual sessions with skills groups.', NULL, 2),
  ('modality', 'act', 'Acceptance and Commitment Therapy', ARRAY['ACT', 'Acceptance & Commitment Therapy']::text[], 'cognitive-behavioral', 'Instead of fighting painful thoughts and feelings, you learn to make room for them and not let them steer you. The work centres on what matters most to you and on taking steps in that direction.', NULL, 3),
  ('modality', 'mindfulness-based', 'Mindfulness-Based Therapy', ARRAY['MBCT', 'Mindfulness-Based Cognitive Therapy', 'MBSR', 'Mindfulness-Based Stress Reduction', 'Mindfulness']::text[], 'cognitive-behavioral', 'You practise paying attention to the present moment, including your thoughts and body, without judging what you notice. It is often used to prevent depression from returning and to ease stress and anxiety.', NULL, 4),
  ('modality', 'schema-therapy', 'Schema Therapy', ARRAY['Schema-Focused Therapy', 'Schema Focused Therapy']::text[], 'integrative', 'Schema therapy looks for deep patterns, often formed in childhood, that keep repeating in your life and relationships. It blends cognitive, attachment and experiential techniques to meet needs that went unmet and loosen those patterns.', NULL, 5),
  ('modality', 'psychodynamic', 'Psychodynamic Therapy', ARRAY['Psychodynamic Psychotherapy', 'Insight-Oriented Therapy']::text[], 'psychodynamic', 'You talk openly about what is on your mind while the therapist helps you notice patterns, many of them rooted in earlier relationships. Understanding where those patterns come from gives you more freedom to choose how you respond now.', NULL, 6),
  ('modality', 'psychoanalytic', 'Psychoanalytic Therapy', ARRAY['Psychoanalysis', 'Psychoanalytic Psychotherapy']::text[], 'psychodynamic', 'An in-depth, often longer-term therapy that explores unconscious feelings, dreams and the relationship with the therapist itself. Sessions may be frequent, and the aim is lasting change in how you experience yourself and others.', NULL, 7),
  ('modality', 'attachment-based', 'Attachment-Based Therapy', ARRAY['Attachment Based Therapy', 'Attachment-Focused Therapy', 'Attachment Focused', 'Attachment-Informed Therapy']::text[], 'relational', 'This approach looks at how your early bonds shaped the way you connect, trust and cope when someone you love feels distant. It helps you understand anxious or avoidant patterns and build more secure relationships.', NULL, 8),
  ('modality', 'eft', 'Emotionally Focused Therapy', ARRAY['EFT', 'Emotionally Focused Couples Therapy', 'EFCT', 'Emotion-Focused Therapy']::text[], 'relational', 'Grounded in attachment science, it helps couples and individuals recognise the emotional cycles behind their conflicts. You learn to express underlying needs in a way that invites closeness instead of distance.', NULL, 9),
  ('modality', 'gottman', 'Gottman Method Couples Therapy', ARRAY['Gottman Method', 'Gottman']::text[], 'relational', 'A couples therapy built on decades of research into what makes relationships last. Partners learn concrete skills for managing conflict, repairing after arguments and deepening friendship and intimacy.', NULL, 10),
  ('modality', 'imago', 'Imago Relationship Therapy', ARRAY['Imago', 'Imago Therapy']::text[], 'relational', 'Imago therapy treats conflict between partners as a chance to heal older wounds. Structured dialogues help each partner truly hear the other and respond with empathy.', NULL, 11),
  ('modality', 'family-systems', 'Family Systems Therapy', ARRAY['Bowen Family Systems', 'Family Therapy', 'Systemic Therapy', 'Structural Family Therapy']::text[], 'systemic', 'Problems are seen as part of the patterns in a family or relationship rather than inside one person. Sessions may include family members, and change in one part of the system helps the whole.', NULL, 12),
  ('modality', 'ifs', 'Internal Family Systems', ARRAY['IFS', 'Parts Work', 'Internal Family Systems Therapy']::text[], 'integrative', 'IFS sees the mind as made of different parts, such as a harsh critic or a frightened inner child, each trying to protect you. You learn to understand these parts with curiosity and compassion so they no longer run the show.', NULL, 13),
  ('modality', 'emdr', 'Eye Movement Desensitization and Reprocessing', ARRAY['EMDR', 'EMDR Therapy']::text[], 'trauma-focused', 'EMDR helps the brain reprocess distressing memories, using guided eye movements or taps while you briefly recall them. Many people find that painful memories lose their emotional charge after a number of sessions.', NULL, 14),
  ('modality', 'cpt', 'Cognitive Processing Therapy', ARRAY['CPT']::text[], 'trauma-focused', 'A structured trauma therapy that helps you examine and update beliefs that formed after a traumatic event, such as self-blame. It usually runs for about twelve sessions and includes writing and worksheets.', NULL, 15),
  ('modality', 'somatic', 'Somatic Therapy', ARRAY['Somatic Experiencing', 'Body-Centered Therapy', 'Sensorimotor Psychotherapy', 'Body-Oriented Therapy']::text[], 'trauma-focused', 'Somatic therapy works with what you feel in your body as well as what you think, since stress and trauma are held physically. Gentle attention to breath, posture and sensation helps your nervous system settle.', NULL, 16),
  ('modality', 'person-centered', 'Person-Centered Therapy', ARRAY['Client-Centered Therapy', 'Rogerian Therapy', 'Person-Centred Therapy', 'Humanistic Therapy']::text[], 'humanistic', 'The therapist offers warmth, acceptance and close listening, and you lead the conversation. Feeling deeply understood helps you trust your own judgement and grow in your own direction.', NULL, 17),
  ('modality', 'gestalt', 'Gestalt Therapy', ARRAY['Gestalt']::text[], 'humanistic', 'Gestalt therapy focuses on what you are experiencing right now, in the room, rather than only talking about the past. Exercises such as role-play help you become aware of feelings and needs you may be avoiding.', NULL, 18),
  ('modality', 'solution-focused', 'Solution-Focused Brief Therapy', ARRAY['SFBT', 'Solution Focused Therapy', 'Brief Therapy']::text[], 'systemic', 'Rather than digging into problems, this short-term approach looks at what is already working and what you want instead. Sessions build on your strengths to take small, concrete steps toward your goals.', NULL, 19),
  ('modality', 'narrative', 'Narrative Therapy', ARRAY['Narrative Approach']::text[], 'systemic', 'Narrative therapy helps you separate yourself from your problems by looking at the stories you tell about your life. Together you notice overlooked strengths and write a fuller, more hopeful story.', NULL, 20),
  ('modality', 'motivational-interviewing', 'Motivational Interviewing', ARRAY['MI']::text[], 'humanistic', 'A collaborative conversation style that helps you explore mixed feelings about making a change, such as drinking less. The therapist draws out your own reasons and confidence instead of lecturing.', NULL, 21),
  ('modality', 'exposure-therapy', 'Exposure Therapy', ARRAY['Exposure and Response Prevention', 'ERP', 'Prolonged Exposure']::text[], 'cognitive-behavioral', 'You gradually and safely face the situations, thoughts or memories you fear, at a pace you agree on. Over time the fear loses its grip, which makes it a leading treatment for phobias, OCD and PTSD.', NULL, 22),
  ('specialty', 'relationship-issues', 'Relationship Issues', ARRAY['Relationship Problems', 'Relationships', 'Marital Issues', 'Couples Issues']::text[], 'relationships', 'Recurring arguments, distance or feeling stuck with a partner. Therapy helps you understand your part in the pattern and what you need.', NULL, 1),
  ('specialty', 'codependency', 'Codependency', ARRAY['Codependent Relationships', 'People Pleasing']::text[], 'relationships', 'Putting a partner’s needs and moods so far ahead of your own that you lose yourself. Therapy helps you care for others without abandoning yourself.', NULL, 2),
  ('specialty', 'boundaries', 'Boundaries', ARRAY['Setting Boundaries', 'Boundary Setting']::text[], 'relationships', 'Learning to say what is and is not okay for you, and to hold to it without guilt. Clear boundaries protect your energy and make relationships safer.', NULL, 3),
  ('specialty', 'attachment', 'Attachment Issues', ARRAY['Attachment', 'Attachment Styles', 'Anxious Attachment', 'Avoidant Attachment']::text[], 'relationships', 'Anxious, avoidant or mixed ways of bonding that make closeness feel unsafe or uncertain. Therapy helps you move toward more secure connection.', NULL, 4),
  ('specialty', 'communication', 'Communication', ARRAY['Communication Problems', 'Communication Skills']::text[], 'relationships', 'Saying what you need without blaming, and listening without shutting down. Better communication lowers conflict and builds trust.', NULL, 5),
  ('specialty', 'infidelity', 'Infidelity', ARRAY['Affairs', 'Cheating', 'Affair Recovery']::text[], 'relationships', 'The aftermath of an affair, whether you were betrayed, strayed, or are deciding what comes next. Therapy gives you space to make sense of it and rebuild, together or apart.', NULL, 6),
  ('specialty', 'divorce', 'Divorce and Separation', ARRAY['Divorce', 'Separation', 'Breakups', 'Breakup']::text[], 'relationships', 'Ending a relationship, co-parenting and finding your footing afterwards. Support helps you grieve the loss and plan what comes next.', NULL, 7),
  ('specialty', 'anxiety', 'Anxiety', ARRAY['Generalized Anxiety', 'Worry', 'Panic', 'Panic Attacks']::text[], 'mood', 'Constant worry, tension, racing thoughts or panic that gets in the way of life. Therapy teaches ways to calm your body and loosen anxious thinking.', NULL, 8),
  ('specialty', 'depression', 'Depression', ARRAY['Low Mood', 'Sadness']::text[], 'mood', 'Persistent low mood, emptiness or loss of interest that lasts weeks or more. Therapy is one of the most effective treatments and helps you re-engage with life.', NULL, 9),
  ('specialty', 'emotional-regulation', 'Emotional Regulation', ARRAY['Emotion Regulation', 'Emotional Dysregulation', 'Mood Swings']::text[], 'mood', 'Feelings that arrive too fast or too strong to manage. Therapy teaches skills to ride out intense emotions and respond rather than react.', NULL, 10),
  ('specialty', 'stress', 'Stress', ARRAY['Burnout', 'Work Stress', 'Stress Management']::text[], 'mood', 'Feeling overwhelmed by work, caregiving or life demands. Therapy helps you set priorities, rest and cope more sustainably.', NULL, 11),
  ('specialty', 'anger', 'Anger Management', ARRAY['Anger', 'Anger Issues']::text[], 'mood', 'Anger that flares up quickly, damages relationships or worries you afterwards. Therapy helps you notice early signs and express anger safely.', NULL, 12),
  ('specialty', 'trauma', 'Trauma and PTSD', ARRAY['Trauma', 'PTSD', 'Post-Traumatic Stress', 'Complex Trauma', 'CPTSD']::text[], 'trauma', 'The lasting effects of frightening or overwhelming experiences, such as flashbacks, numbness or always being on guard. Trauma-informed therapy helps you feel safe in your body and life again.', NULL, 13),
  ('specialty', 'self-esteem', 'Self-Esteem', ARRAY['Self Worth', 'Self-Worth', 'Confidence', 'Self Confidence']::text[], 'identity', 'A harsh inner critic or a sense of not being good enough. Therapy helps you build a kinder, steadier view of yourself.', NULL, 14),
  ('specialty', 'grief', 'Grief and Loss', ARRAY['Grief', 'Loss', 'Bereavement']::text[], 'life-events', 'Mourning a death, a relationship or a life you expected. Therapy offers room to grieve in your own way and carry the loss.', NULL, 15),
  ('specialty', 'life-transitions', 'Life Transitions', ARRAY['Transitions', 'Life Changes']::text[], 'life-events', 'Big changes such as moving, a new job, retirement or becoming a parent. Therapy helps you adjust and find your bearings.', NULL, 16),
  ('specialty', 'parenting', 'Parenting', ARRAY['Parenting Issues', 'Co-Parenting']::text[], 'family', 'Challenges with raising children, from toddler struggles to teen conflict. Therapy supports calmer, more connected parenting.', NULL, 17),
  ('specialty', 'family-conflict', 'Family Conflict', ARRAY['Family Issues', 'Family Problems']::text[], 'family', 'Tension or estrangement with parents, siblings or in-laws. Therapy helps you understand family patterns and decide how close to be.', NULL, 18),
  ('specialty', 'lgbtq', 'LGBTQ+ Issues', ARRAY['LGBTQ', 'LGBT', 'Queer', 'Gender Identity', 'Sexual Orientation']::text[], 'identity', 'Exploring identity, coming out, and coping with stigma in an affirming space. Therapists here are experienced with LGBTQ+ clients and relationships.', NULL, 19),
  ('specialty', 'substance-use', 'Substance Use', ARRAY['Addiction', 'Alcohol Use', 'Drug Use', 'Substance Abuse']::text[], 'behavior', 'Drinking or drug use that has become hard to control or is causing harm. Therapy supports cutting back, quitting or staying in recovery.', NULL, 20),
  ('specialty', 'ocd', 'Obsessive-Compulsive Disorder', ARRAY['OCD', 'Obsessions', 'Compulsions']::text[], 'mood', 'Intrusive thoughts and urges to perform rituals that are hard to resist. Specialised therapy such as exposure work is very effective.', NULL, 21),
  ('specialty', 'adhd', 'ADHD', ARRAY['Attention Deficit', 'ADD']::text[], 'behavior', 'Trouble with focus, organisation or restlessness that affects work and relationships. Therapy offers practical strategies and self-understanding.', NULL, 22),
  ('specialty', 'sexual-issues', 'Intimacy and Sexual Issues', ARRAY['Intimacy', 'Sex Therapy', 'Sexual Concerns']::text[], 'relationships', 'Differences in desire, intimacy difficulties or sexual concerns. A therapist provides a private, non-judgmental space to talk about them.', NULL, 23),
  ('client_focus', 'individuals', 'Individuals', ARRAY['Individual', 'Adults', 'Individual Therapy']::text[], NULL, 'Therapy for one adult at a time. Most people start here, even when the concern is a relationship.', NULL, 1),
  ('client_focus', 'couples', 'Couples', ARRAY['Couple', 'Partners', 'Couples Therapy', 'Marriage Counseling']::text[], NULL, 'Sessions with both partners together. Useful when both are willing to work on the relationship.', NULL, 2),
  ('client_focus', 'families', 'Families', ARRAY['Family', 'Family Therapy']::text[], NULL, 'Sessions with several family members. Useful for conflict, transitions or supporting one member.', NULL, 3),
  ('client_focus', 'teens', 'Teens', ARRAY['Teen', 'Adolescents', 'Adolescent', 'Teenagers']::text[], NULL, 'Therapy for young people aged about 13 to 18. Parents are usually involved in some way.', NULL, 4),
  ('client_focus', 'children', 'Children', ARRAY['Child', 'Kids']::text[], NULL, 'Therapy for children under 13, often through play. Parents take part in the work.', NULL, 5),
  ('client_focus', 'older-adults', 'Older Adults', ARRAY['Seniors', 'Elders', 'Older Adult']::text[], NULL, 'Therapy attuned to later life: retirement, health, caregiving and loss. For people about 65 and older.', NULL, 6),
  ('format', 'in_person', 'In person', ARRAY['In-Person', 'Office', 'Face to Face', 'In Office']::text[], NULL, 'Sessions in the therapist’s office. The office address and distance are shown for each result.', NULL, 1),
  ('format', 'telehealth', 'Telehealth', ARRAY['Online', 'Video', 'Virtual', 'Teletherapy', 'Remote']::text[], NULL, 'Sessions by secure video or phone. Therapists may only see clients located in states where they are licensed.', NULL, 2),
  ('license_type', 'psychologist', 'Psychologist', ARRAY['PhD Psychologist', 'PsyD', 'Licensed Psychologist', 'Clinical Psychologist']::text[], NULL, 'A doctoral-level clinician (PhD or PsyD) licensed to provide therapy and psychological testing. NUCC: Clinical Psychologist.', '103TC0700X', 1),
  ('license_type', 'lcsw', 'Licensed Clinical Social Worker', ARRAY['LCSW', 'LICSW', 'LCSW-C', 'Clinical Social Worker']::text[], NULL, 'A master’s-level social worker licensed to diagnose and provide therapy. NUCC: Clinical Social Worker.', '1041C0700X', 2),
  ('license_type', 'lpc', 'Licensed Professional Counselor', ARRAY['LPC', 'LPCC', 'LCPC', 'Professional Counselor']::text[], NULL, 'A master’s-level counselor licensed to provide therapy. NUCC: Professional Counselor.', '101YP2500X', 3),
  ('license_type', 'lmhc', 'Licensed Mental Health Counselor', ARRAY['LMHC', 'LCMHC', 'Mental Health Counselor']::text[], NULL, 'A master’s-level mental health counselor, the title some states use instead of LPC. NUCC: Mental Health Counselor.', '101YM0800X', 4),
  ('license_type', 'lmft', 'Licensed Marriage and Family Therapist', ARRAY['LMFT', 'MFT', 'Marriage and Family Therapist', 'Marriage & Family Therapist']::text[], NULL, 'A master’s-level therapist trained to work with couples, families and individuals in the context of their relationships. NUCC: Marriage & Family Therapist.', '106H00000X', 5),
  ('license_type', 'psychiatrist', 'Psychiatrist', ARRAY['MD', 'DO', 'Psychiatry']::text[], NULL, 'A medical doctor who specialises in mental health and can prescribe medication; some also provide therapy. NUCC: Psychiatry & Neurology, Psychiatry.', '2084P0800X', 6),
  ('license_type', 'pmhnp', 'Psychiatric Nurse Practitioner', ARRAY['PMHNP', 'PMHNP-BC', 'Psychiatric Mental Health Nurse Practitioner']::text[], NULL, 'An advanced-practice nurse who can diagnose, prescribe and often provide therapy. NUCC: Nurse Practitioner, Psychiatric/Mental Health.', '363LP0808X', 7),
  ('license_type', 'psychoanalyst', 'Psychoanalyst', ARRAY['Licensed Psychoanalyst', 'LP']::text[], NULL, 'A clinician with advanced training in psychoanalysis. NUCC: Psychoanalyst.', '102L00000X', 8),
  ('license_type', 'lcadc', 'Licensed Addiction Counselor', ARRAY['LCADC', 'LADC', 'CADC', 'Addiction Counselor']::text[], NULL, 'A counselor licensed to treat substance use and addiction. NUCC: Addiction (Substance Use Disorder) Counselor.', '101YA0400X', 9);
