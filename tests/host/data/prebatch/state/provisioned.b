QPR2 00000002 0025 4dc8ee75
{"params":true,"reserved":1001,"v":1}