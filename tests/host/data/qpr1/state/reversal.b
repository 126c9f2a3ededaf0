QPR1 00000002 0016 084bd0f5
{"state":"none","v":1}