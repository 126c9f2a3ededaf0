QPR2 00000002 0033 3a37ca88
{"day":20794,"known":1796608801,"need":false,"v":1}