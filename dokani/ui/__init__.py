"""The only dokani code that imports streamlit: shared widgets, session context, formatting."""
