"""Speech to subtitles, offline: Whisper (faster-whisper, CTranslate2 int8) transcribes a clip's
speech, the cues are cut at its pauses by a published style guide, and a person approves each
language before anything is burned in. The engine is the optional `[speech]` extra; nothing
here downloads a model.
"""
