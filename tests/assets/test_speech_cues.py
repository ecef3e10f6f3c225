"""Cutting a transcript into cues: at pauses and phrase boundaries, never mid-word, within the guide."""

from __future__ import annotations

from assets.speech.cues import cut_cues, make_units
from assets.speech.styleguide import check_cue, length, rules_for
from assets.speech.transcribe import Transcript, Word


def words(spec: str, start: float = 0.5, step: float = 0.3, pauses: dict[int, float] | None = None) -> tuple[Word, ...]:
    """Words `step` apart; `pauses` adds silence before word i."""
    out, t = [], start
    for i, text in enumerate(spec.split()):
        t += (pauses or {}).get(i, 0.0)
        out.append(Word(text, round(t, 3), round(t + step - 0.02, 3)))
        t += step
    return tuple(out)


def transcript(ws: tuple[Word, ...], language: str = "en", duration: float = 12.0,
               speech: list[tuple[float, float]] | None = None) -> Transcript:
    speech = speech or [(ws[0].start, ws[-1].end)]
    return Transcript(language, "transcribe", duration, ws, tuple(speech))


def test_cuts_at_the_pauses_heard_in_the_audio() -> None:
    ws = words("Belgium turned our vaccine research into doses for the world in months.", pauses={5: 0.3, 10: 0.3})
    speech = [(0.5, ws[4].end), (ws[5].start, ws[9].end), (ws[10].start, ws[11].end)]
    cues = cut_cues(transcript(ws, speech=speech), rules_for("en"))
    assert [c.text for c in cues] == ["Belgium turned our vaccine research", "into doses for the world", "in months."]
    assert cues[1].start == ws[5].start and cues[0].end <= ws[5].start - 2 / 24


def test_a_piece_too_short_to_read_is_not_cut_off_at_its_pause() -> None:
    ws = words("Ici, j'ai pu aimer qui je veux, au grand jour.", pauses={1: 0.25, 7: 0.25})
    speech = [(ws[0].start, ws[0].end), (ws[1].start, ws[6].end), (ws[7].start, ws[9].end)]
    cues = cut_cues(transcript(ws, "fr", speech=speech), rules_for("fr"))
    assert [c.text for c in cues] == ["Ici, j'ai pu aimer qui je veux,", "au grand jour."]


def test_a_long_sentence_without_pauses_is_split_after_punctuation_never_inside_a_word() -> None:
    text = ("We came to Brussels for a week, stayed for ten years, and built a company that now employs "
            "two hundred people from thirty countries.")
    ws = words(text, step=0.32)
    cues = cut_cues(transcript(ws, duration=ws[-1].end + 1), rules_for("en"))
    assert len(cues) >= 2
    assert " ".join(c.text.replace("\n", " ") for c in cues) == text  # every word once, in order, none cut
    assert any(c.text.endswith(",") for c in cues[:-1])
    for n, cue in enumerate(cues):
        nxt = cues[n + 1].start if n + 1 < len(cues) else None
        assert [p.kind for p in check_cue(cue.text, cue.start, cue.end, rules_for("en"), next_start=nxt)] == []


def test_the_first_cue_starts_with_the_sound_not_at_whispers_zero() -> None:
    ws = (Word("Hello", 0.0, 1.1), Word("there.", 1.1, 1.6))
    cues = cut_cues(transcript(ws, speech=[(0.8, 1.7)]), rules_for("en"))
    assert cues[0].start == 0.8 and cues[0].end >= 1.7


def test_out_time_is_extended_for_reading_speed_at_most_half_a_second() -> None:
    ws = words("Absolutely extraordinary.", step=0.3)
    cue = cut_cues(transcript(ws, duration=10), rules_for("en"))[0]
    assert cue.end - ws[-1].end <= 0.5 + 1e-3 and cue.end - cue.start >= 5 / 6


def test_japanese_cues_are_whole_budoux_phrases() -> None:
    text = "imecでの研究で、ベルギーの開かれた協力の力を実感しました。"
    ws = tuple(Word(ch, 0.5 + i * 0.2, 0.5 + i * 0.2 + 0.18) for i, ch in enumerate(text))
    rules = rules_for("ja")
    phrases = [u.text for u in make_units(ws, rules)]
    assert "".join(phrases) == text and len(phrases) < len(text)
    cues = cut_cues(transcript(ws, "ja", duration=ws[-1].end + 1), rules)
    assert "".join(c.text.replace("\n", "") for c in cues) == text
    pieces = set()
    for cue in cues:
        for line in cue.text.split("\n"):
            assert length(line, rules) <= 13
            pieces.add(line)
    boundaries = {sum(len(p) for p in phrases[:i]) for i in range(len(phrases) + 1)}
    position = 0
    for cue in cues:
        position += len(cue.text.replace("\n", ""))
        assert position in boundaries  # a cue ends where a phrase ends


def test_arabic_words_stay_in_reading_order() -> None:
    text = "بروكسل مدينة منفتحة على العالم"
    cues = cut_cues(transcript(words(text), "ar"), rules_for("ar"))
    assert cues[0].text == text
