-- Photo search (`konter photo find`, `konter serve --photos`): staged cards read from photos are
-- found by serial or code through these partial indexes. Only rows with a photo are in them, so
-- staging a CSV list (no photo) writes nothing more than before.
CREATE INDEX staging_rows_photo_serial ON staging_rows(serial) WHERE photo_path IS NOT NULL;
CREATE INDEX staging_rows_photo_code ON staging_rows(code) WHERE photo_path IS NOT NULL;
