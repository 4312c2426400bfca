-- Schema version 3: the notification of a monitor on a host that some
-- notifier has not received yet (JSON, '' when none), so that a restart
-- delivers it instead of forgetting it.

ALTER TABLE monitor_state ADD COLUMN pending TEXT NOT NULL DEFAULT '';
