-- Schema version 7: reserved for another branch of issue work (numbers
-- 0007 and 0009-0012 are taken); a no-op here so that versions run
-- without gaps. When the real 0007 lands, it replaces this file.
SELECT 1;
