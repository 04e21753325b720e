-- What SQLModel create_all made (uq/store/tables.py at 9e58a93, revision 0002_pending_mark): a frozen
-- copy, so the migration tests start from the real released schema, not from our migrations.

CREATE TABLE audit (
	id SERIAL NOT NULL,
	at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	actor VARCHAR NOT NULL,
	action VARCHAR NOT NULL,
	case_pk INTEGER,
	detail VARCHAR NOT NULL,
	prev_hash VARCHAR NOT NULL,
	hash VARCHAR NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_audit_action ON audit (action);

CREATE INDEX ix_audit_at ON audit (at);

CREATE INDEX ix_audit_case_pk ON audit (case_pk);

CREATE TABLE case_row (
	id SERIAL NOT NULL,
	case_id VARCHAR NOT NULL,
	sender VARCHAR NOT NULL,
	sender_name VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	reply_to VARCHAR,
	message_id VARCHAR,
	"references" TEXT,
	status VARCHAR NOT NULL,
	arrived_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	problems TEXT,
	update_count INTEGER NOT NULL,
	last_updated_at TIMESTAMP WITHOUT TIME ZONE,
	regulatory_extended_to TIMESTAMP WITHOUT TIME ZONE,
	extension_reason VARCHAR,
	paused_seconds INTEGER NOT NULL,
	paused_since TIMESTAMP WITHOUT TIME ZONE,
	first_opened_at TIMESTAMP WITHOUT TIME ZONE,
	claimed_by VARCHAR,
	due_at TIMESTAMP WITHOUT TIME ZONE,
	reviewer_due_at TIMESTAMP WITHOUT TIME ZONE,
	regulatory_due_at TIMESTAMP WITHOUT TIME ZONE,
	window_start TIMESTAMP WITHOUT TIME ZONE,
	binding VARCHAR NOT NULL,
	urgency_rank INTEGER NOT NULL,
	f_case_id VARCHAR,
	review_type VARCHAR NOT NULL,
	urgency VARCHAR NOT NULL,
	received_at TIMESTAMP WITHOUT TIME ZONE,
	explicit_due_at TIMESTAMP WITHOUT TIME ZONE,
	client VARCHAR,
	member_name VARCHAR,
	member_dob VARCHAR,
	member_id VARCHAR,
	requesting_provider VARCHAR,
	provider_phone VARCHAR,
	provider_npi VARCHAR,
	facility VARCHAR,
	diagnosis TEXT,
	service TEXT,
	dates_of_service VARCHAR,
	guideline TEXT,
	criteria_met TEXT,
	criteria_not_met TEXT,
	clinical_summary TEXT,
	nurse_assessment TEXT,
	nurse_recommendation VARCHAR NOT NULL,
	nurse_recommendation_text TEXT,
	nurse_name VARCHAR,
	question TEXT,
	body_text TEXT,
	PRIMARY KEY (id),
	CONSTRAINT uq_case_sender_id UNIQUE (sender, case_id)
);

CREATE INDEX ix_case_queue ON case_row (status, due_at, urgency_rank, arrived_at, id);

CREATE INDEX ix_case_row_case_id ON case_row (case_id);

CREATE INDEX ix_case_row_message_id ON case_row (message_id);

CREATE TABLE sync_cursor (
	mailbox VARCHAR NOT NULL,
	uidvalidity INTEGER NOT NULL,
	last_uid INTEGER NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (mailbox, uidvalidity)
);

CREATE TABLE uq_meta (
	key VARCHAR NOT NULL,
	value VARCHAR NOT NULL,
	PRIMARY KEY (key)
);

CREATE TABLE call_attempt (
	id SERIAL NOT NULL,
	case_pk INTEGER NOT NULL,
	at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	number VARCHAR NOT NULL,
	outcome VARCHAR NOT NULL,
	note VARCHAR NOT NULL,
	reviewer VARCHAR NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(case_pk) REFERENCES case_row (id)
);

CREATE INDEX ix_call_attempt_case_pk ON call_attempt (case_pk);

CREATE TABLE decision (
	id SERIAL NOT NULL,
	case_pk INTEGER NOT NULL,
	outcome VARCHAR NOT NULL,
	agrees_with_nurse BOOLEAN,
	rationale TEXT NOT NULL,
	guideline VARCHAR NOT NULL,
	note TEXT NOT NULL,
	decline_reason VARCHAR,
	approved_portion VARCHAR,
	reviewer VARCHAR NOT NULL,
	decided_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	seconds_spent INTEGER,
	undone BOOLEAN NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(case_pk) REFERENCES case_row (id)
);

CREATE INDEX ix_decision_case_pk ON decision (case_pk);

CREATE TABLE raw_message (
	id SERIAL NOT NULL,
	mailbox VARCHAR NOT NULL,
	uidvalidity INTEGER NOT NULL,
	uid INTEGER NOT NULL,
	internaldate TIMESTAMP WITHOUT TIME ZONE,
	ingested_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	message_id VARCHAR,
	content_hash VARCHAR NOT NULL,
	size INTEGER NOT NULL,
	raw BYTEA NOT NULL,
	kind VARCHAR NOT NULL,
	pending_mark BOOLEAN NOT NULL,
	reason VARCHAR,
	sender VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	case_pk INTEGER,
	PRIMARY KEY (id),
	CONSTRAINT uq_raw_uid UNIQUE (mailbox, uidvalidity, uid),
	FOREIGN KEY(case_pk) REFERENCES case_row (id)
);

CREATE INDEX ix_raw_message_case_pk ON raw_message (case_pk);

CREATE INDEX ix_raw_message_content_hash ON raw_message (content_hash);

CREATE INDEX ix_raw_message_message_id ON raw_message (message_id);

CREATE INDEX ix_raw_message_pending_mark ON raw_message (pending_mark);

CREATE TABLE attachment (
	id SERIAL NOT NULL,
	case_pk INTEGER NOT NULL,
	raw_message_pk INTEGER NOT NULL,
	filename VARCHAR NOT NULL,
	content_type VARCHAR NOT NULL,
	size INTEGER NOT NULL,
	part VARCHAR NOT NULL,
	text TEXT,
	PRIMARY KEY (id),
	FOREIGN KEY(case_pk) REFERENCES case_row (id),
	FOREIGN KEY(raw_message_pk) REFERENCES raw_message (id)
);

CREATE INDEX ix_attachment_case_pk ON attachment (case_pk);

CREATE TABLE outbox (
	id SERIAL NOT NULL,
	case_pk INTEGER NOT NULL,
	decision_id INTEGER NOT NULL,
	message_id VARCHAR NOT NULL,
	mail_from VARCHAR NOT NULL,
	recipients VARCHAR NOT NULL,
	state VARCHAR NOT NULL,
	not_before TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	attempts INTEGER NOT NULL,
	last_error VARCHAR,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	sent_at TIMESTAMP WITHOUT TIME ZONE,
	sent_copy_saved BOOLEAN NOT NULL,
	raw BYTEA NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(case_pk) REFERENCES case_row (id),
	FOREIGN KEY(decision_id) REFERENCES decision (id),
	UNIQUE (message_id)
);

CREATE INDEX ix_outbox_case_pk ON outbox (case_pk);

CREATE INDEX ix_outbox_state ON outbox (state);
