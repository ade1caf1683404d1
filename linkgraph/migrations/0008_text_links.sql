-- Links stated only in text (crosswalks/textmine.py): relations.asserted_by = 'text' keeps the
-- sentence the identifier stood in. The readers also learnt Crossref deposit XML, reference
-- lists and CSTR: the next crosswalk re-reads every raw record (the payloads are kept, so no
-- harvest is repeated; each record's old rows are replaced as it is read).
ALTER TABLE relations ADD COLUMN evidence VARCHAR;  -- text links: the sentence; NULL otherwise
UPDATE crosswalk_state SET high_water = 0;
