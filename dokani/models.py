"""SQLAlchemy 2 typed models for every table of the schema document, plus the console's own tables.

Column types, nullability and server defaults mirror ``migrations/schema_document.py``; the migrations,
not these models, create the database. ``metadata`` columns are mapped as ``metadata_`` because
``metadata`` is reserved on declarative classes.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AuthUser(Base):
    __tablename__ = "users"
    __table_args__ = {"schema": "auth"}

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    email: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    business_name: Mapped[str] = mapped_column(Text, nullable=False)
    website: Mapped[str | None] = mapped_column(Text, nullable=True)
    subscription_plan: Mapped[str | None] = mapped_column(Text, server_default=text("'free'"), nullable=True)
    onboarded: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), server_default=text("uuid_generate_v4()"), nullable=False)


class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    version: Mapped[str] = mapped_column(Text, nullable=False)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    effective_date: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    rules: Mapped[Any] = mapped_column(JSONB, nullable=False)
    policy_impact_score: Mapped[Decimal | None] = mapped_column(Numeric, server_default=text("0"), nullable=True)
    usage_statistics: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    compliance_metrics: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    metrics_computed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # revision 0025: by the worker
    # Lifecycle columns (revision 0004): draft / scheduled / active / retired, optimistic lock, lineage.
    state: Mapped[str] = mapped_column(Text, server_default=text("'draft'"), nullable=False)
    lock_version: Mapped[int] = mapped_column(Integer, server_default=text("0"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("now()"), nullable=False)
    based_on_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("policies.id"), nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ReturnRequest(Base):
    __tablename__ = "return_requests"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    public_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), server_default=text("gen_random_uuid()"), nullable=False)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    order_id: Mapped[str] = mapped_column(Text, nullable=False)
    customer_email: Mapped[str] = mapped_column(Text, nullable=False)
    reason_for_return: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str | None] = mapped_column(Text, server_default=text("'pending_triage'"), nullable=True)
    evidence_urls: Mapped[list[str] | None] = mapped_column(ARRAY(Text), nullable=True)
    conversation_log: Mapped[Any | None] = mapped_column(JSONB, nullable=True)
    ai_recommendation: Mapped[str | None] = mapped_column(Text, nullable=True)
    admin_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    risk_score: Mapped[Decimal | None] = mapped_column(Numeric, server_default=text("0.5"), nullable=True)
    fraud_flags: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    triage_agent_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    customer_service_agent_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    processing_time_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    escalation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    policy_version_used: Mapped[str | None] = mapped_column(Text, nullable=True)
    admin_decision_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    days_since_purchase: Mapped[int | None] = mapped_column(Integer, nullable=True)
    order_value: Mapped[Decimal | None] = mapped_column(Numeric, server_default=text("0"), nullable=True)
    product_category: Mapped[str | None] = mapped_column(Text, nullable=True)
    customer_satisfaction_score: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    ai_reasoning: Mapped[str | None] = mapped_column(Text, nullable=True)
    policy_violations: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    risk_factors: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    denied_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    return_history: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    # Not in the schema document: the triage engine's confidence and rule trace (revision 0003).
    ai_confidence: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    triage_details: Mapped[Any | None] = mapped_column(JSONB, nullable=True)
    # Not in the schema document (revision 0005): opened in a chat test session or a suite run; never live.
    is_test: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), nullable=False)
    test_session_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("chat_sessions.id"), nullable=True)


class ChatSession(Base):
    __tablename__ = "chat_sessions"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    user_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("auth.users.id"), nullable=True)
    business_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=True)
    session_name: Mapped[str | None] = mapped_column(Text, server_default=text("'Test Session'"), nullable=True)
    chat_mode: Mapped[str | None] = mapped_column(Text, server_default=text("'normal'"), nullable=True)
    session_type: Mapped[str | None] = mapped_column(Text, server_default=text("'test_mode'"), nullable=True)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"), nullable=True)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    customer_email: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    session_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("chat_sessions.id"), nullable=True)
    sender: Mapped[str] = mapped_column(Text, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    message_type: Mapped[str | None] = mapped_column(Text, server_default=text("'text'"), nullable=True)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class ConversationSession(Base):
    __tablename__ = "conversation_sessions"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    customer_email: Mapped[str] = mapped_column(Text, nullable=False)
    channel: Mapped[str] = mapped_column(Text, nullable=False)
    return_request_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("return_requests.id"), nullable=True)
    status: Mapped[str | None] = mapped_column(Text, server_default=text("'active'"), nullable=True)
    participants: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    conversation_history: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    current_intent: Mapped[str | None] = mapped_column(Text, server_default=text("'initial_contact'"), nullable=True)
    escalation_level: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    ai_agent_type: Mapped[str | None] = mapped_column(Text, server_default=text("'triage'"), nullable=True)
    duration: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    archive_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class ConversationMessage(Base):
    __tablename__ = "conversation_messages"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("conversation_sessions.id"), nullable=False)
    user_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_type: Mapped[str] = mapped_column(Text, nullable=False)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class ConversationChunk(Base):
    __tablename__ = "conversation_chunks"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("conversation_sessions.id"), nullable=False)
    chunk_type: Mapped[str] = mapped_column(Text, nullable=False)
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    binary_data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sequence_number: Mapped[int] = mapped_column(Integer, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)
    processing_status: Mapped[str | None] = mapped_column(Text, server_default=text("'pending'"), nullable=True)
    ai_processed: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    ai_response_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class AiConversationState(Base):
    __tablename__ = "ai_conversation_state"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("conversation_sessions.id"), nullable=False)
    agent_type: Mapped[str] = mapped_column(Text, nullable=False)
    conversation_context: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    current_intent: Mapped[str | None] = mapped_column(Text, nullable=True)
    conversation_flow: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    ai_memory: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    response_history: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    escalation_level: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"), nullable=True)
    last_interaction: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class ProviderConfig(Base):
    __tablename__ = "provider_configs"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    business_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=True)
    provider: Mapped[str] = mapped_column(Text, nullable=False)
    config_name: Mapped[str] = mapped_column(Text, nullable=False)
    config_data: Mapped[Any] = mapped_column(JSONB, server_default=text("'{}'"), nullable=False)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    usage_count: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    performance_metrics: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    is_default: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    streaming_settings: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    real_time_config: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    websocket_config: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    stream_processor_config: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    ai_integration_config: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)


class CallSession(Base):
    __tablename__ = "call_sessions"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    chat_session_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("chat_sessions.id"), nullable=True)
    call_type: Mapped[str] = mapped_column(Text, nullable=False)
    provider: Mapped[str] = mapped_column(Text, nullable=False)
    external_session_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str | None] = mapped_column(Text, server_default=text("'initiated'"), nullable=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    provider_data: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    elevenlabs_agent_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    elevenlabs_conversation_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    tavus_replica_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    tavus_conversation_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    session_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook_data: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    persona_config_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("provider_configs.id"), nullable=True)
    call_quality_score: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    customer_feedback: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    streaming_enabled: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    websocket_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    stream_processor_urls: Mapped[Any | None] = mapped_column(JSONB, nullable=True)
    streaming_config: Mapped[Any | None] = mapped_column(JSONB, nullable=True)
    real_time_events: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    connection_count: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    last_stream_activity: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    stream_quality_metrics: Mapped[Any | None] = mapped_column(JSONB, nullable=True)
    ai_conversation_state_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("ai_conversation_state.id"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class CallTranscript(Base):
    __tablename__ = "call_transcripts"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    call_session_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("call_sessions.id"), nullable=True)
    speaker: Mapped[str] = mapped_column(Text, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    timestamp_seconds: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    chunk_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    is_real_time: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    processing_status: Mapped[str | None] = mapped_column(Text, server_default=text("'pending'"), nullable=True)
    ai_processed: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    ai_response_generated: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    stream_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audio_chunk_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    video_frame_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)


class CallAnalytics(Base):
    __tablename__ = "call_analytics"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    call_session_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("call_sessions.id"), nullable=True)
    provider: Mapped[str] = mapped_column(Text, nullable=False)
    metrics: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    events: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class AudioChunk(Base):
    __tablename__ = "audio_chunks"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    audio_data: Mapped[str] = mapped_column(Text, nullable=False)
    session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("call_sessions.id"), nullable=False)
    user_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    is_final: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sample_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    format: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class VideoFrame(Base):
    __tablename__ = "video_frames"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("call_sessions.id"), nullable=False)
    user_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    frame_data: Mapped[str] = mapped_column(Text, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    is_key_frame: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fps: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    format: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class StreamingSession(Base):
    __tablename__ = "streaming_sessions"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    call_session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("call_sessions.id"), nullable=False)
    session_type: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, server_default=text("'active'"), nullable=False)
    websocket_connections: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    participant_count: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    stream_quality: Mapped[str | None] = mapped_column(Text, server_default=text("'standard'"), nullable=True)
    audio_config: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    video_config: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    ai_agent_config: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    real_time_events: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'[]'"), nullable=True)
    performance_metrics: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class VideoAnalysis(Base):
    __tablename__ = "video_analysis"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("call_sessions.id"), nullable=False)
    user_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    frame_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    analysis_data: Mapped[Any] = mapped_column(JSONB, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    analysis_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class VideoStreamAnalysis(Base):
    __tablename__ = "video_stream_analysis"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("streaming_sessions.id"), nullable=False)
    analysis_data: Mapped[Any] = mapped_column(JSONB, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    analysis_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class FileUpload(Base):
    __tablename__ = "file_uploads"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    file_type: Mapped[str] = mapped_column(Text, nullable=False)
    file_name: Mapped[str] = mapped_column(Text, nullable=False)
    file_path: Mapped[str] = mapped_column(Text, nullable=False)
    file_url: Mapped[str] = mapped_column(Text, nullable=False)
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB, server_default=text("'{}'"), nullable=True)
    uploaded_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class UserPreferences(Base):
    __tablename__ = "user_preferences"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    user_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("auth.users.id"), nullable=True)
    preferences: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class AgentPerformanceLog(Base):
    __tablename__ = "agent_performance_logs"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    agent_type: Mapped[str] = mapped_column(Text, nullable=False)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    interaction_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    session_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("chat_sessions.id"), nullable=True)
    performance_metrics: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    decision_quality_score: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    response_time_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    customer_satisfaction_score: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class BusinessAnalytics(Base):
    __tablename__ = "business_analytics"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    metric_type: Mapped[str] = mapped_column(Text, nullable=False)
    metric_data: Mapped[Any] = mapped_column(JSONB, server_default=text("'{}'"), nullable=False)
    calculated_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    period_start: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    period_end: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class CustomerRiskProfile(Base):
    __tablename__ = "customer_risk_profiles"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    customer_email: Mapped[str] = mapped_column(Text, nullable=False)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    risk_score: Mapped[Decimal | None] = mapped_column(Numeric, server_default=text("0.5"), nullable=True)
    return_frequency: Mapped[int | None] = mapped_column(Integer, server_default=text("0"), nullable=True)
    fraud_indicators: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    behavior_patterns: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    last_updated: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class SecurityEvent(Base):
    __tablename__ = "security_events"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    event_type: Mapped[str] = mapped_column(Text, nullable=False)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    customer_email: Mapped[str | None] = mapped_column(Text, nullable=True)
    return_request_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("return_requests.id"), nullable=True)
    severity: Mapped[str | None] = mapped_column(Text, server_default=text("'medium'"), nullable=True)
    event_data: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    resolved: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    resolved_by: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class PersonaTestLog(Base):
    __tablename__ = "persona_test_logs"

    id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=False)
    config_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("provider_configs.id"), nullable=False)
    test_type: Mapped[str] = mapped_column(Text, nullable=False)
    test_content: Mapped[str] = mapped_column(Text, nullable=False)
    test_result: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'"), nullable=True)
    success: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    test_duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, server_default=text("now()"), nullable=True)


class MockOrder(Base):
    __tablename__ = "mock_orders"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[str] = mapped_column(Text, nullable=False)
    purchase_date: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    customer_email: Mapped[str] = mapped_column(Text, nullable=False)
    product_name: Mapped[str] = mapped_column(Text, nullable=False)
    product_category: Mapped[str] = mapped_column(Text, nullable=False)
    purchase_price: Mapped[Decimal | None] = mapped_column(Numeric, server_default=text("99.99"), nullable=True)
    order_status: Mapped[str | None] = mapped_column(Text, server_default=text("'delivered'"), nullable=True)
    quantity: Mapped[int | None] = mapped_column(Integer, server_default=text("1"), nullable=True)
    order_value: Mapped[Decimal | None] = mapped_column(Numeric, server_default=text("99.99"), nullable=True)
    # Not in the schema document: demo orders belong to the business that sells them (revision 0002).
    business_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), nullable=True)


class BusinessMember(Base):
    """Who may act for a business, and as what (revision 0002)."""

    __tablename__ = "business_members"

    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), primary_key=True)
    user_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("auth.users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(Text, server_default=text("'reviewer'"))
    display_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("now()"))


class AuditLog(Base):
    """One row per write-back: who did what to which row, with the row before and after (revision 0002)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"))
    actor_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    actor_email: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    before: Mapped[Any | None] = mapped_column(JSONB)
    after: Mapped[Any | None] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("now()"))


class PolicyBacktest(Base):
    """The stored result of replaying a policy version over a business's past returns (revision 0004)."""

    __tablename__ = "policy_backtests"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"))
    policy_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("policies.id"))
    policy_version: Mapped[str] = mapped_column(Text)
    period_start: Mapped[datetime | None] = mapped_column(DateTime)
    period_end: Mapped[datetime | None] = mapped_column(DateTime)
    returns_evaluated: Mapped[int] = mapped_column(Integer)
    outcomes_changed: Mapped[int] = mapped_column(Integer)
    refund_value_change: Mapped[Decimal] = mapped_column(Numeric, server_default=text("0"))
    summary: Mapped[Any] = mapped_column(JSONB, server_default=text("'{}'"))
    flips: Mapped[Any] = mapped_column(JSONB, server_default=text("'[]'"))
    created_by: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    created_by_email: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("now()"))


class PolicyActivation(Base):
    """One period a policy version was in force; written by a trigger on ``policies`` (revision 0008)."""

    __tablename__ = "policy_activations"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"))
    policy_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("policies.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    how: Mapped[str] = mapped_column(Text)  # activated | scheduled | rolled_back | recorded


# --- issue #8: call imports, webhooks and call-to-return links (revision 0009) ---------------------------------

class CallEvent(Base):
    """One ElevenLabs / Tavus event received (webhook) or imported (file, upload), raw, with its processing status."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"))
    provider: Mapped[str] = mapped_column(Text)  # elevenlabs | tavus
    event_type: Mapped[str] = mapped_column(Text)
    conversation_id: Mapped[str | None] = mapped_column(Text)
    event_key: Mapped[str] = mapped_column(Text)  # unique per business and provider: the same event twice
    source: Mapped[str] = mapped_column(Text)  # webhook | file | upload
    file_name: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[Any] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text, server_default=text("'received'"))  # received | processed | failed
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    call_session_id: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True), ForeignKey("call_sessions.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("(now() AT TIME ZONE 'utc')"))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)


class CallWebhookSecret(Base):
    """A business's ElevenLabs HMAC secret, or its Tavus URL token (kept only as SHA-256). Owners/admins only."""

    __tablename__ = "call_webhook_secrets"

    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"), primary_key=True)
    provider: Mapped[str] = mapped_column(Text, primary_key=True)
    secret: Mapped[str | None] = mapped_column(Text)
    token_sha256: Mapped[str | None] = mapped_column(Text, unique=True)
    hint: Mapped[str] = mapped_column(Text)
    set_by: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    set_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("(now() AT TIME ZONE 'utc')"))


class CallReturnLink(Base):
    """The return a call was about and how that was found (return_id | order_id | email_time | reviewer)."""

    __tablename__ = "call_return_links"

    call_session_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("call_sessions.id"), primary_key=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"))
    return_request_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("return_requests.id"))
    method: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    linked_by: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    linked_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("(now() AT TIME ZONE 'utc')"))


# --- issue #13: background jobs (revision 0012) -------------------------------------------------------------


class BackgroundJob(Base):
    """One piece of background work of a business (a backtest, a suite run): what a page shows of a job."""

    __tablename__ = "background_jobs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"))
    kind: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    params: Mapped[Any] = mapped_column(JSONB, server_default=text("'{}'"))
    lock_key: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text, server_default=text("'queued'"))
    progress_done: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    result: Mapped[Any | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    retry_of: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("background_jobs.id"))
    queue_job_id: Mapped[int | None] = mapped_column(BigInteger)
    requested_by: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True))
    requested_by_email: Mapped[str | None] = mapped_column(Text)
    requested_role: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))

# --- issue 9: customer risk lists and band overrides (revision 0010) ---------------------------------------------


class RiskListEntry(Base):
    """An email or order id on a business's trusted list, watchlist or blocklist; removed rows stay as history."""

    __tablename__ = "risk_list_entries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"))
    list_kind: Mapped[str] = mapped_column(Text)  # trusted | watchlist | blocklist
    match_kind: Mapped[str] = mapped_column(Text)  # email | order
    value: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("timezone('utc', now())"))
    created_by: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_by: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    removed_reason: Mapped[str | None] = mapped_column(Text)


class RiskBandOverride(Base):
    """A manual risk band for one customer, beating the computed band until it expires or is cleared."""

    __tablename__ = "risk_band_overrides"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    business_id: Mapped[UUID] = mapped_column(PgUUID(as_uuid=True), ForeignKey("profiles.business_id"))
    customer_email: Mapped[str] = mapped_column(Text)
    band: Mapped[str] = mapped_column(Text)  # low | medium | high
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=text("timezone('utc', now())"))
    created_by: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_by: Mapped[UUID | None] = mapped_column(PgUUID(as_uuid=True))
    removed_reason: Mapped[str | None] = mapped_column(Text)
