-- Facts about the stored data itself, such as which similarity rules built the question terms.
CREATE TABLE app_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
