-- Platform: PostGIS and the schema everything else lives in.
CREATE EXTENSION IF NOT EXISTS postgis;
