#!/bin/sh
test -s /var/backups/pg/latest.sql
