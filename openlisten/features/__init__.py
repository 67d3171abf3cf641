"""Deepgram features: functions of transcript records and their options, one module each."""
