-- The change feed that keeps every instance's caches coherent (src/db/change-feed.ts). Whatever changes
-- an app's status, deletes an account or edits a vocabulary (the API, an operator's SQL, a CLI) notifies
-- `cache_changes` when it commits; each instance drops what it cached of it. Payloads:
-- `client:<client_id>`, `user:<id>`, `vocabulary`.

CREATE FUNCTION cache_notify_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cache_changes', 'client:' || OLD.client_id);
    IF TG_OP = 'UPDATE' AND NEW.client_id IS DISTINCT FROM OLD.client_id THEN
        PERFORM pg_notify('cache_changes', 'client:' || NEW.client_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER "api_clients_cache_notify" AFTER UPDATE OR DELETE ON "api_clients" FOR EACH ROW EXECUTE FUNCTION cache_notify_client();

CREATE FUNCTION cache_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cache_changes', 'user:' || OLD.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER "users_cache_notify" AFTER DELETE ON "users" FOR EACH ROW EXECUTE FUNCTION cache_notify_user();

CREATE FUNCTION cache_notify_vocabulary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cache_changes', 'vocabulary');
    RETURN NULL;
END $$;
CREATE TRIGGER "vocabulary_term_cache_notify" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "vocabulary_term" FOR EACH STATEMENT EXECUTE FUNCTION cache_notify_vocabulary();
