-- Schema version 8: reserved for a migration of another branch landing on
-- main at the same time (versions must run without gaps); this placeholder
-- changes nothing and is replaced when that branch's 0008_*.sql lands.
SELECT 1;
