-- 0011_task_due.sql - a task may be due at a time: set by the SOP action that
-- hands it out (due_in_hours) or by PATCH /tasks/{id} {"due_at"}; an open task
-- past it is overdue (GET /tasks?overdue=true).
ALTER TABLE tasks ADD COLUMN due_at INTEGER;
