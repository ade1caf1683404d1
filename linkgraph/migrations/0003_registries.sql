-- Registry connectors: registration-agency cache and DOIs no agency knows.

-- doi.org/ra answers per prefix (one prefix belongs to one agency); cached so that resolving
-- or fetching link targets asks doi.org once per prefix.
CREATE TABLE ra_cache (
    prefix      VARCHAR PRIMARY KEY,   -- 10.NNNN, lower-case
    agency      VARCHAR,               -- as doi.org spells it: JaLC, Crossref, DataCite, mEDRA, ...; NULL when unknown
    status      VARCHAR NOT NULL,      -- ok | unknown (doi.org: "DOI does not exist") | invalid
    detail      VARCHAR,               -- doi.org's status text when not ok
    checked_at  TIMESTAMPTZ NOT NULL
);

-- Relation targets (or resolved DOIs) that could not be fetched from any agency.
CREATE TABLE unknown_dois (
    doi         VARCHAR PRIMARY KEY,   -- normalised, lower-case
    prefix      VARCHAR,
    agency      VARCHAR,               -- the agency doi.org named, when it named one
    reason      VARCHAR NOT NULL,      -- prefix-unknown | not-found | agency-unsupported | malformed
    checked_at  TIMESTAMPTZ NOT NULL
);
