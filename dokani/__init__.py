"""Dokani console: domain and services (no Streamlit here)."""
