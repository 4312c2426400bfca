package engine

import "time"

// CommitInfo is what people recognise a commit by: the first line of its
// message, its author and when it was made.
type CommitInfo struct {
	SHA     string    `json:"sha"`
	Subject string    `json:"subject"`
	Author  string    `json:"author"`
	When    time.Time `json:"when,omitzero"`
}
