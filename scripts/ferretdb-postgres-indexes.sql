-- Makes the indexes a FerretDB 1.x client declares usable by PostgreSQL (issue 14).
--
-- FerretDB 1.24's PostgreSQL backend stores each document as one `jsonb` column `_jsonb` and
-- pushes an equality filter `{ field: value }` down as `_jsonb -> 'field' @> '<value>'` (scalars
-- only: strings, numbers, booleans, dates; also "array contains", as MongoDB means it). But the
-- index it creates for `createIndexes` is a B-tree on `(_jsonb -> 'field')`, and a B-tree cannot
-- answer `@>`: every pushed-down filter, `_id` included, is a sequential scan (measured: 64 ms for
-- one `_id` on 20,000 documents of 2 KB).
--
-- This event trigger adds, beside every single-field B-tree FerretDB creates on a top-level field
-- (the `_id` index of every collection, and the first field of each declared index), a GIN index
-- (`jsonb_path_ops`) on the same expression, which answers `@>` (3 ms on the same 20,000). Run it in
-- FerretDB's PostgreSQL database before FerretDB creates its collections. FerretDB does not list
-- these indexes (`listIndexes` reads its own metadata) and drops them with their table (not with
-- `dropIndexes`: a GIN left then only costs writes; drop it by hand).
--
-- FerretDB passes the field name as a query parameter (`_jsonb -> $1`): only a plan made for the
-- actual values can match the index expression, so the server needs
-- `plan_cache_mode = force_custom_plan` (scripts/ferretdb-postgres.mjs sets it).

CREATE OR REPLACE FUNCTION pontis_gin_beside_ferretdb_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  command record;
  method text;
  key text;
  field text;
BEGIN
  FOR command IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
    SELECT am.amname INTO method FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.oid = command.objid;
    -- Only FerretDB's B-trees; the GIN made here fires this trigger too.
    CONTINUE WHEN method IS DISTINCT FROM 'btree';
    key := pg_get_indexdef(command.objid, 1, false);
    -- A top-level field: `((_jsonb -> 'name'::text))`. Dotted paths are pushed down as `#>`, not here.
    field := substring(key FROM '^\(+_jsonb -> ''((?:[^'']|'''')*)''::text\)+$');
    CONTINUE WHEN field IS NULL;
    -- Unnamed: PostgreSQL picks a free name (<table>_expr_idx<n>); FerretDB's own names are long
    -- enough that a suffix could cut their hash and make two collide.
    EXECUTE format(
      'CREATE INDEX ON %s USING gin ((_jsonb -> %L) jsonb_path_ops)',
      (SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = command.objid),
      replace(field, '''''', '''')
    );
  END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS pontis_gin_beside_ferretdb_index;
CREATE EVENT TRIGGER pontis_gin_beside_ferretdb_index ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION pontis_gin_beside_ferretdb_index();
