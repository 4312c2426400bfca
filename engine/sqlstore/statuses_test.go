package sqlstore

import (
	"context"
	"strings"
	"testing"
)

// OutboxStats runs at every scrape: it must read the outbox through its
// partial index, never scan the whole statuses table.
func TestOutboxStatsUsesTheOutboxIndex(t *testing.T) {
	s := openTest(t)
	rows, err := s.reader.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+outboxStatsQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || !strings.Contains(plan[0], "USING INDEX statuses_outbox") {
		t.Fatalf("query plan %q, want one step using the index statuses_outbox", plan)
	}
}
