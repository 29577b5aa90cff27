-- Photo search (`konter photo find`, `konter serve --photos`): the serial and code of every
-- staged card that has a photo (a row in staging_photos), indexed, so a card is found among
-- millions of staged rows without a scan. Triggers keep it in step; none of them fires when a
-- list (CSV/TXT) is staged, so list intake pays nothing for it.
CREATE TABLE staging_photo_numbers (
    row_id INTEGER PRIMARY KEY,
    serial TEXT NOT NULL,
    code   TEXT NOT NULL
);
CREATE INDEX staging_photo_numbers_serial ON staging_photo_numbers(serial);
CREATE INDEX staging_photo_numbers_code ON staging_photo_numbers(code);

INSERT INTO staging_photo_numbers(row_id, serial, code)
SELECT s.id, s.serial, s.code FROM staging_photos p JOIN staging_rows s ON s.id = p.row_id;

-- A photo given to a staged row (its row is written first: staging_photos.row_id references it).
CREATE TRIGGER staging_photo_numbers_add AFTER INSERT ON staging_photos BEGIN
    INSERT OR REPLACE INTO staging_photo_numbers(row_id, serial, code)
    SELECT id, serial, code FROM staging_rows WHERE id = NEW.row_id;
END;

-- A photo taken away (also when its staged row is deleted: ON DELETE CASCADE).
CREATE TRIGGER staging_photo_numbers_drop AFTER DELETE ON staging_photos BEGIN
    DELETE FROM staging_photo_numbers WHERE row_id = OLD.row_id;
END;

-- A staged card's serial or code fixed in review.
CREATE TRIGGER staging_photo_numbers_edit AFTER UPDATE OF serial, code ON staging_rows
WHEN NEW.serial IS NOT OLD.serial OR NEW.code IS NOT OLD.code BEGIN
    UPDATE staging_photo_numbers SET serial = NEW.serial, code = NEW.code WHERE row_id = NEW.id;
END;
