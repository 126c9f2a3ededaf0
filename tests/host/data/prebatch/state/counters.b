QPR2 00000004 0017 a5b5dad5
{"batch":1,"n":3,"v":1}