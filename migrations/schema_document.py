"""The schema document (shared/seed/000_9ac5c67499763e0e.txt), table by table, as data.

One spec drives both paths of the first revision: creating the schema on an empty database and
adopting a database that was built from the document earlier (tables already there, full of rows):
missing tables, columns, defaults and constraints are added, nothing is dropped or rewritten.

Beyond the document, and only where Postgres needs it: defaults for primary keys (uuid / identity)
and ``created_at``, and UNIQUE on ``profiles.business_id`` (every ``business_id`` foreign key points at it).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    default: str | None = None
    not_null: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    pk: str
    pk_type: str
    columns: list[Column]
    foreign_keys: list[tuple[str, str]] = field(default_factory=list)  # (column, "table(column)")
    checks: list[tuple[str, str]] = field(default_factory=list)  # (column, expression)
    uniques: list[str] = field(default_factory=list)
    schema: str = "public"

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def C(name: str, type_: str, default: str | None = None, not_null: bool = False) -> Column:
    return Column(name, type_, default, not_null)


NOW = "now()"
UUID_PK = "uuid"
BIGINT_PK = "bigint"

TABLES: list[Table] = [
    Table("users", "id", UUID_PK, [C("email", "text"), C("created_at", "timestamp", NOW)], schema="auth"),
    Table(
        "profiles", "id", UUID_PK,
        [
            C("created_at", "timestamp", NOW),
            C("business_name", "text", not_null=True),
            C("website", "text"),
            C("subscription_plan", "text", "'free'"),
            C("onboarded", "boolean", "false"),
            C("business_id", "uuid", "uuid_generate_v4()", not_null=True),
        ],
        foreign_keys=[("id", "auth.users(id)")],
        uniques=["business_id"],
    ),
    Table(
        "policies", "id", BIGINT_PK,
        [
            C("created_at", "timestamp", NOW),
            C("business_id", "uuid", not_null=True),
            C("version", "text", not_null=True),
            C("is_active", "boolean", "false"),
            C("effective_date", "timestamp"),
            C("rules", "jsonb", not_null=True),
            C("policy_impact_score", "numeric", "0"),
            C("usage_statistics", "jsonb", "'{}'"),
            C("compliance_metrics", "jsonb", "'{}'"),
        ],
        foreign_keys=[("business_id", "profiles(business_id)")],
    ),
    Table(
        "return_requests", "id", BIGINT_PK,
        [
            C("public_id", "uuid", "gen_random_uuid()", not_null=True),
            C("created_at", "timestamp", NOW),
            C("business_id", "uuid", not_null=True),
            C("order_id", "text", not_null=True),
            C("customer_email", "text", not_null=True),
            C("reason_for_return", "text"),
            C("status", "text", "'pending_triage'"),
            C("evidence_urls", "text[]"),
            C("conversation_log", "jsonb"),
            C("ai_recommendation", "text"),
            C("admin_notes", "text"),
            C("risk_score", "numeric", "0.5"),
            C("fraud_flags", "jsonb", "'{}'"),
            C("triage_agent_id", "text"),
            C("customer_service_agent_id", "text"),
            C("processing_time_ms", "integer"),
            C("escalation_reason", "text"),
            C("policy_version_used", "text"),
            C("admin_decision_at", "timestamp"),
            C("days_since_purchase", "integer"),
            C("order_value", "numeric", "0"),
            C("product_category", "text"),
            C("customer_satisfaction_score", "numeric"),
            C("ai_reasoning", "text"),
            C("policy_violations", "jsonb", "'[]'"),
            C("risk_factors", "jsonb", "'[]'"),
            C("approved_at", "timestamp"),
            C("denied_at", "timestamp"),
            C("return_history", "integer", "0"),
        ],
        foreign_keys=[("business_id", "profiles(business_id)")],
        uniques=["public_id"],
    ),
    Table(
        "chat_sessions", "id", UUID_PK,
        [
            C("user_id", "uuid"),
            C("business_id", "uuid"),
            C("session_name", "text", "'Test Session'"),
            C("chat_mode", "text", "'normal'"),
            C("session_type", "text", "'test_mode'"),
            C("is_active", "boolean", "true"),
            C("metadata", "jsonb", "'{}'"),
            C("created_at", "timestamp", NOW),
            C("updated_at", "timestamp", NOW),
            C("customer_email", "text"),
        ],
        foreign_keys=[("user_id", "auth.users(id)"), ("business_id", "profiles(business_id)")],
    ),
    Table(
        "chat_messages", "id", UUID_PK,
        [
            C("session_id", "uuid"),
            C("sender", "text", not_null=True),
            C("message", "text", not_null=True),
            C("message_type", "text", "'text'"),
            C("metadata", "jsonb", "'{}'"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("session_id", "chat_sessions(id)")],
    ),
    Table(
        "conversation_sessions", "id", UUID_PK,
        [
            C("business_id", "uuid", not_null=True),
            C("customer_email", "text", not_null=True),
            C("channel", "text", not_null=True),
            C("return_request_id", "bigint"),
            C("status", "text", "'active'"),
            C("participants", "jsonb", "'[]'"),
            C("conversation_history", "jsonb", "'[]'"),
            C("current_intent", "text", "'initial_contact'"),
            C("escalation_level", "integer", "0"),
            C("ai_agent_type", "text", "'triage'"),
            C("duration", "integer", "0"),
            C("archived_at", "timestamp"),
            C("archive_reason", "text"),
            C("metadata", "jsonb", "'{}'"),
            C("created_at", "timestamp", NOW),
            C("updated_at", "timestamp", NOW),
        ],
        foreign_keys=[("business_id", "profiles(business_id)"), ("return_request_id", "return_requests(id)")],
    ),
    Table(
        "conversation_messages", "id", UUID_PK,
        [
            C("session_id", "uuid", not_null=True),
            C("user_id", "uuid"),
            C("content", "text"),
            C("message_type", "text", not_null=True),
            C("metadata", "jsonb", "'{}'"),
            C("timestamp", "timestamp", not_null=True),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("session_id", "conversation_sessions(id)")],
    ),
    Table(
        "conversation_chunks", "id", UUID_PK,
        [
            C("session_id", "uuid", not_null=True),
            C("chunk_type", "text", not_null=True),
            C("content", "text"),
            C("binary_data", "bytea"),
            C("sequence_number", "integer", not_null=True),
            C("timestamp", "timestamp", not_null=True),
            C("duration_ms", "integer"),
            C("metadata", "jsonb", "'{}'"),
            C("processing_status", "text", "'pending'"),
            C("ai_processed", "boolean", "false"),
            C("ai_response_id", "uuid"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("session_id", "conversation_sessions(id)")],
        checks=[
            ("chunk_type", "chunk_type IN ('audio', 'video', 'text', 'transcript')"),
            ("processing_status", "processing_status IN ('pending', 'processing', 'completed', 'failed')"),
        ],
    ),
    Table(
        "ai_conversation_state", "id", UUID_PK,
        [
            C("session_id", "uuid", not_null=True),
            C("agent_type", "text", not_null=True),
            C("conversation_context", "jsonb", "'{}'"),
            C("current_intent", "text"),
            C("conversation_flow", "jsonb", "'[]'"),
            C("ai_memory", "jsonb", "'{}'"),
            C("response_history", "jsonb", "'[]'"),
            C("escalation_level", "integer", "0"),
            C("is_active", "boolean", "true"),
            C("last_interaction", "timestamp", NOW),
            C("created_at", "timestamp", NOW),
            C("updated_at", "timestamp", NOW),
        ],
        foreign_keys=[("session_id", "conversation_sessions(id)")],
        checks=[("agent_type", "agent_type IN ('customer_service', 'triage', 'policy', 'conversation')")],
    ),
    Table(
        "provider_configs", "id", UUID_PK,
        [
            C("business_id", "uuid"),
            C("provider", "text", not_null=True),
            C("config_name", "text", not_null=True),
            C("config_data", "jsonb", "'{}'", not_null=True),
            C("is_active", "boolean", "true"),
            C("created_at", "timestamp", NOW),
            C("updated_at", "timestamp", NOW),
            C("usage_count", "integer", "0"),
            C("last_used_at", "timestamp"),
            C("performance_metrics", "jsonb", "'{}'"),
            C("is_default", "boolean", "false"),
            C("streaming_settings", "jsonb", "'{}'"),
            C("real_time_config", "jsonb", "'{}'"),
            C("websocket_config", "jsonb", "'{}'"),
            C("stream_processor_config", "jsonb", "'{}'"),
            C("ai_integration_config", "jsonb", "'{}'"),
        ],
        foreign_keys=[("business_id", "profiles(business_id)")],
    ),
    Table(
        "call_sessions", "id", UUID_PK,
        [
            C("chat_session_id", "uuid"),
            C("call_type", "text", not_null=True),
            C("provider", "text", not_null=True),
            C("external_session_id", "text"),
            C("status", "text", "'initiated'"),
            C("duration_seconds", "integer", "0"),
            C("provider_data", "jsonb", "'{}'"),
            C("created_at", "timestamp", NOW),
            C("ended_at", "timestamp"),
            C("elevenlabs_agent_id", "text"),
            C("elevenlabs_conversation_id", "text"),
            C("tavus_replica_id", "text"),
            C("tavus_conversation_id", "text"),
            C("session_url", "text"),
            C("webhook_data", "jsonb", "'{}'"),
            C("is_active", "boolean", "false"),
            C("persona_config_id", "uuid"),
            C("call_quality_score", "numeric"),
            C("customer_feedback", "jsonb", "'{}'"),
            C("streaming_enabled", "boolean", "false"),
            C("websocket_url", "text"),
            C("stream_processor_urls", "jsonb"),
            C("streaming_config", "jsonb"),
            C("real_time_events", "jsonb", "'[]'"),
            C("connection_count", "integer", "0"),
            C("last_stream_activity", "timestamp"),
            C("stream_quality_metrics", "jsonb"),
            C("ai_conversation_state_id", "uuid"),
            C("updated_at", "timestamp", NOW),
        ],
        foreign_keys=[
            ("chat_session_id", "chat_sessions(id)"),
            ("persona_config_id", "provider_configs(id)"),
            ("ai_conversation_state_id", "ai_conversation_state(id)"),
        ],
    ),
    Table(
        "call_transcripts", "id", UUID_PK,
        [
            C("call_session_id", "uuid"),
            C("speaker", "text", not_null=True),
            C("message", "text", not_null=True),
            C("timestamp_seconds", "numeric"),
            C("created_at", "timestamp", NOW),
            C("chunk_id", "uuid"),
            C("is_real_time", "boolean", "false"),
            C("processing_status", "text", "'pending'"),
            C("ai_processed", "boolean", "false"),
            C("ai_response_generated", "boolean", "false"),
            C("stream_sequence", "integer"),
            C("audio_chunk_id", "uuid"),
            C("video_frame_id", "uuid"),
            C("metadata", "jsonb", "'{}'"),
        ],
        foreign_keys=[("call_session_id", "call_sessions(id)")],
    ),
    Table(
        "call_analytics", "id", UUID_PK,
        [
            C("call_session_id", "uuid"),
            C("provider", "text", not_null=True),
            C("metrics", "jsonb", "'{}'"),
            C("events", "jsonb", "'[]'"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("call_session_id", "call_sessions(id)")],
    ),
    Table(
        "audio_chunks", "id", UUID_PK,
        [
            C("audio_data", "text", not_null=True),
            C("session_id", "uuid", not_null=True),
            C("user_id", "uuid"),
            C("sequence", "integer", not_null=True),
            C("timestamp", "timestamp", not_null=True),
            C("is_final", "boolean", "false"),
            C("duration_ms", "integer"),
            C("sample_rate", "integer"),
            C("channels", "integer"),
            C("format", "text"),
            C("metadata", "jsonb", "'{}'"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("session_id", "call_sessions(id)")],
    ),
    Table(
        "video_frames", "id", UUID_PK,
        [
            C("session_id", "uuid", not_null=True),
            C("user_id", "uuid"),
            C("frame_data", "text", not_null=True),
            C("sequence", "integer", not_null=True),
            C("timestamp", "timestamp", not_null=True),
            C("is_key_frame", "boolean", "false"),
            C("width", "integer"),
            C("height", "integer"),
            C("fps", "numeric"),
            C("format", "text"),
            C("metadata", "jsonb", "'{}'"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("session_id", "call_sessions(id)")],
    ),
    Table(
        "streaming_sessions", "id", UUID_PK,
        [
            C("call_session_id", "uuid", not_null=True),
            C("session_type", "text", not_null=True),
            C("status", "text", "'active'", not_null=True),
            C("websocket_connections", "jsonb", "'[]'"),
            C("participant_count", "integer", "0"),
            C("stream_quality", "text", "'standard'"),
            C("audio_config", "jsonb", "'{}'"),
            C("video_config", "jsonb", "'{}'"),
            C("ai_agent_config", "jsonb", "'{}'"),
            C("real_time_events", "jsonb", "'[]'"),
            C("performance_metrics", "jsonb", "'{}'"),
            C("created_at", "timestamp", NOW),
            C("updated_at", "timestamp", NOW),
            C("ended_at", "timestamp"),
        ],
        foreign_keys=[("call_session_id", "call_sessions(id)")],
        checks=[
            ("session_type", "session_type IN ('voice', 'video', 'hybrid')"),
            ("status", "status IN ('active', 'paused', 'ended', 'error')"),
            ("stream_quality", "stream_quality IN ('low', 'standard', 'high', 'ultra')"),
        ],
    ),
    Table(
        "video_analysis", "id", UUID_PK,
        [
            C("session_id", "uuid", not_null=True),
            C("user_id", "uuid"),
            C("frame_sequence", "integer"),
            C("analysis_data", "jsonb", not_null=True),
            C("timestamp", "timestamp", not_null=True),
            C("analysis_type", "text"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("session_id", "call_sessions(id)")],
        checks=[("analysis_type", "analysis_type IN ('emotion', 'gesture', 'content', 'quality')")],
    ),
    Table(
        "video_stream_analysis", "id", UUID_PK,
        [
            C("session_id", "uuid", not_null=True),
            C("analysis_data", "jsonb", not_null=True),
            C("timestamp", "timestamp", not_null=True),
            C("analysis_type", "text"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("session_id", "streaming_sessions(id)")],
        checks=[("analysis_type", "analysis_type IN ('quality', 'performance', 'content', 'participants')")],
    ),
    Table(
        "file_uploads", "id", UUID_PK,
        [
            C("business_id", "uuid", not_null=True),
            C("file_type", "text", not_null=True),
            C("file_name", "text", not_null=True),
            C("file_path", "text", not_null=True),
            C("file_url", "text", not_null=True),
            C("file_size", "bigint", not_null=True),
            C("metadata", "jsonb", "'{}'"),
            C("uploaded_at", "timestamp", NOW),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("business_id", "profiles(business_id)")],
    ),
    Table(
        "user_preferences", "id", UUID_PK,
        [
            C("user_id", "uuid"),
            C("preferences", "jsonb", "'{}'"),
            C("created_at", "timestamp", NOW),
            C("updated_at", "timestamp", NOW),
        ],
        foreign_keys=[("user_id", "auth.users(id)")],
        uniques=["user_id"],
    ),
    Table(
        "agent_performance_logs", "id", UUID_PK,
        [
            C("agent_type", "text", not_null=True),
            C("business_id", "uuid", not_null=True),
            C("interaction_id", "uuid"),
            C("session_id", "uuid"),
            C("performance_metrics", "jsonb", "'{}'"),
            C("decision_quality_score", "numeric"),
            C("response_time_ms", "integer"),
            C("customer_satisfaction_score", "numeric"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("business_id", "profiles(business_id)"), ("session_id", "chat_sessions(id)")],
    ),
    Table(
        "business_analytics", "id", UUID_PK,
        [
            C("business_id", "uuid", not_null=True),
            C("metric_type", "text", not_null=True),
            C("metric_data", "jsonb", "'{}'", not_null=True),
            C("calculated_at", "timestamp", NOW),
            C("period_start", "timestamp"),
            C("period_end", "timestamp"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("business_id", "profiles(business_id)")],
    ),
    Table(
        "customer_risk_profiles", "id", UUID_PK,
        [
            C("customer_email", "text", not_null=True),
            C("business_id", "uuid", not_null=True),
            C("risk_score", "numeric", "0.5"),
            C("return_frequency", "integer", "0"),
            C("fraud_indicators", "jsonb", "'{}'"),
            C("behavior_patterns", "jsonb", "'{}'"),
            C("last_updated", "timestamp", NOW),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("business_id", "profiles(business_id)")],
    ),
    Table(
        "security_events", "id", UUID_PK,
        [
            C("event_type", "text", not_null=True),
            C("business_id", "uuid", not_null=True),
            C("customer_email", "text"),
            C("return_request_id", "bigint"),
            C("severity", "text", "'medium'"),
            C("event_data", "jsonb", "'{}'"),
            C("resolved", "boolean", "false"),
            C("resolved_by", "uuid"),
            C("resolved_at", "timestamp"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("business_id", "profiles(business_id)"), ("return_request_id", "return_requests(id)")],
    ),
    Table(
        "persona_test_logs", "id", UUID_PK,
        [
            C("business_id", "uuid", not_null=True),
            C("config_id", "uuid", not_null=True),
            C("test_type", "text", not_null=True),
            C("test_content", "text", not_null=True),
            C("test_result", "jsonb", "'{}'"),
            C("success", "boolean", "false"),
            C("error_message", "text"),
            C("test_duration_ms", "integer"),
            C("created_at", "timestamp", NOW),
        ],
        foreign_keys=[("business_id", "profiles(business_id)"), ("config_id", "provider_configs(id)")],
    ),
    Table(
        "mock_orders", "id", BIGINT_PK,
        [
            C("order_id", "text", not_null=True),
            C("purchase_date", "timestamp", not_null=True),
            C("customer_email", "text", not_null=True),
            C("product_name", "text", not_null=True),
            C("product_category", "text", not_null=True),
            C("purchase_price", "numeric", "99.99"),
            C("order_status", "text", "'delivered'"),
            C("quantity", "integer", "1"),
            C("order_value", "numeric", "99.99"),
        ],
        uniques=["order_id"],
    ),
]

# Creation order above satisfies every foreign key except call_sessions -> ai_conversation_state,
# which is declared earlier in the list, so one pass of CREATE TABLE then one of constraints works.
PUBLIC_TABLES = [t.name for t in TABLES if t.schema == "public"]
