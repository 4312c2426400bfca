-- Schema version 9 is reserved for another branch (issue 16 took 10).
-- Placeholder so versions stay gapless until that branch lands; when
-- merging, its migration replaces this file.
SELECT 1;
