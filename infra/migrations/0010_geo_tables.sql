-- geo: boundary editions (municipalities), BA-regions, offices (service points) and mobile teams, in WGS84
-- (SRID 4326) with GiST spatial indexes. Loaded by geo.store.load_all (`veiviser geo load`); the routing hot
-- path uses in-memory indexes built from the same files, these tables are the queryable record.
CREATE TABLE IF NOT EXISTS municipalities (
    edition        text NOT NULL,
    code           text NOT NULL,
    name           text NOT NULL,
    region         text NOT NULL,
    reference_code text NOT NULL,
    valid_from     date NOT NULL,
    valid_to       date,
    geom           geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (edition, code)
);
CREATE INDEX IF NOT EXISTS municipalities_geom_idx ON municipalities USING gist (geom);

CREATE TABLE IF NOT EXISTS regions (
    edition    text NOT NULL,
    code       text NOT NULL,
    name       text NOT NULL,
    valid_from date NOT NULL,
    valid_to   date,
    geom       geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (edition, code)
);
CREATE INDEX IF NOT EXISTS regions_geom_idx ON regions USING gist (geom);

CREATE TABLE IF NOT EXISTS offices (
    id               text PRIMARY KEY,
    unit_id          text NOT NULL,
    unit_name        text NOT NULL,
    name             text NOT NULL,
    municipality     text NOT NULL,
    location_source  text NOT NULL,
    opening_hours    jsonb NOT NULL,
    staff            integer NOT NULL CHECK (staff >= 0),
    daily_capacity   integer NOT NULL CHECK (daily_capacity >= 0),
    registry_version text NOT NULL,
    geom             geometry(Point, 4326) NOT NULL
);
CREATE INDEX IF NOT EXISTS offices_geom_idx ON offices USING gist (geom);

CREATE TABLE IF NOT EXISTS mobile_teams (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    base_point       text NOT NULL,
    covers_regions   text[] NOT NULL,
    registry_version text NOT NULL,
    geom             geometry(Point, 4326) NOT NULL
);
CREATE INDEX IF NOT EXISTS mobile_teams_geom_idx ON mobile_teams USING gist (geom);
