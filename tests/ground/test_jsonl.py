"""Append-only JSONL: records whose text holds Unicode line breaks (U+2028, U+2029, U+0085) survive writing, resuming and
the torn-last-line repair (issue 14, item 5)."""
import json
import pytest
from reasoner_kit.core import KitError, JsonlLog, read_jsonl, write_jsonl

ODD = ['line\u2028separator', 'paragraph\u2029separator', 'next\x85line', 'all three at the end \u2028\u2029\x85']
RECS = [{'key': f'k{i}', 'text': t} for i, t in enumerate(ODD)]

def test_write_and_read_odd_line_breaks(tmp_path):
    f = tmp_path / 'x.jsonl'
    write_jsonl(f, RECS)
    assert f.read_bytes().count(b'\n') == len(RECS)     # written raw (ensure_ascii=False), one record per line
    assert read_jsonl(f) == RECS

def test_log_resumes_records_with_odd_line_breaks(tmp_path):
    log = JsonlLog(tmp_path / 'log.jsonl')
    for r in RECS: log.append(r)
    again = JsonlLog(log.path)
    assert again.records == RECS and again.done == {r['key'] for r in RECS}   # the last one too
    again.append({'key': 'more', 'text': 'plain'})
    assert [r['key'] for r in read_jsonl(log.path)] == [r['key'] for r in RECS] + ['more']

@pytest.mark.parametrize('cut', [5, -3])   # torn inside the record, or inside the UTF-8 bytes of its last U+2028
def test_torn_last_line_repair_with_odd_line_breaks(tmp_path, cut):
    log = JsonlLog(tmp_path / 'log.jsonl')
    for r in RECS[:3]: log.append(r)
    torn = json.dumps({'key': 'torn', 'text': 'x\u2028y\u2028'}, ensure_ascii=False).encode()[:cut]
    with open(log.path, 'ab') as f: f.write(torn)           # a kill mid-write
    assert read_jsonl(log.path) == RECS[:3]
    again = JsonlLog(log.path)                               # drops the torn line and rewrites the file
    assert again.records == RECS[:3] and log.path.read_bytes().endswith(b'\n')
    again.append(RECS[3])
    assert read_jsonl(log.path) == RECS and JsonlLog(log.path).done == {r['key'] for r in RECS}

def test_complete_bad_line_is_an_error(tmp_path):
    f = tmp_path / 'x.jsonl'
    f.write_text('{"key": "a"}\n{"key": \n{"key": "b"}\n', encoding='utf-8')
    with pytest.raises(KitError, match=r'x.jsonl:2 is not valid JSON'): read_jsonl(f)
