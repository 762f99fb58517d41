-- Schema version 8: photos taken at inspection, kept with the inspected unit (shoppers' photos have none).
-- Written from the EF model; SchemaTests prove a migrated database matches the model.

ALTER TABLE "photos" ADD "inspection_id" TEXT NULL;

CREATE INDEX "IX_photos_inspection_id" ON "photos" ("inspection_id");
