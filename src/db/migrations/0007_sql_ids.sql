-- The same ids as src/core/ids.ts (`<prefix>_` + 10 base32 chars of epoch ms + 16 random base32 chars), for rows
-- written by set-based statements that cannot take one id per row from JavaScript (e.g. a sweep that
-- dead-letters many jobs and records a `job.failed` event for each in the same statement).
CREATE OR REPLACE FUNCTION opsbase_new_id(prefix text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  alphabet constant text := '0123456789abcdefghjkmnpqrstvwxyz';
  ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  t text := '';
  r text := '';
BEGIN
  FOR i IN 1..10 LOOP
    t := substr(alphabet, (ms % 32)::int + 1, 1) || t;
    ms := ms / 32;
  END LOOP;
  FOR i IN 1..16 LOOP
    r := r || substr(alphabet, floor(random() * 32)::int + 1, 1);
  END LOOP;
  RETURN prefix || '_' || t || r;
END
$$;
