# Known-answer vectors of the security module's primitives, as literals MicroPython can import (the
# tests need no file outside the project). Hex strings, uppercase; bytes.fromhex turns them into bytes.
#
# Where they come from:
# - "published": copied from the source named, and also checked with `cryptography`.
# - "frozen": computed once with the `cryptography` package (never with hal/soft/des.py), by the
#   reference functions of tests/host/test_crypto_cross.py (X9.19 from CBC, the ECB MAC built
#   from docs/PROTOCOL.md's description, 3DES ECB of the clear PIN block); its
#   test_frozen_vectors_match_cryptography recomputes every one of them, so they cannot drift.

# DES, single block (published): the classic worked example of DES (key 133457799BBCDFF1).
DES_BLOCK = (
    # key, plaintext, ciphertext
    ("133457799BBCDFF1", "0123456789ABCDEF", "85E813540F0AB405"),
)
# DES ECB over three blocks (published): FIPS 81, appendix B, table B1 ("Now is the time for all ").
DES_ECB = (
    (
        "0123456789ABCDEF",
        "4E6F77206973207468652074696D6520666F7220616C6C20",
        "3FA40E8A984D48156A271787AB8883F9893D51EC4B563B53",
    ),
)

# 3DES EDE (key, plaintext, ciphertext).
TDES = (
    # two-key, published: its first block is the check value field engineers know (08D7B4FB)
    ("0123456789ABCDEFFEDCBA9876543210", "0000000000000000", "08D7B4FB629D0885"),
    # two-key, frozen
    ("0123456789ABCDEFFEDCBA9876543210", "0123456789ABCDEF", "1A4D672DCA6CB335"),
    # three-key, published: NIST SP 800-67 rev. 1 appendix B, plaintext "The qufck brown fox jump"
    # (NIST's own spelling)
    (
        "0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123",
        "54686520717566636B2062726F776E20666F78206A756D70",
        "A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900",
    ),
)

# Key check values (key, 4-byte check value), frozen.
CHECK_VALUES = (
    ("133457799BBCDFF1", "948A43F9"),
    ("0123456789ABCDEFFEDCBA9876543210", "08D7B4FB"),
    ("55036372B17543ECB173730768B8D6C4", "D1345931"),
    ("A1B2C3D4E5F60718293A4B5C6D7E8F90", "76CDB553"),
)

# The UnionPay POS "ECB" MAC worked example (published, with a double-length MAC key).
# MAB = the message from the MTI through the field before 64; F64 = the 8 ASCII characters.
ECB_MAC_EXAMPLE_MAK = "55036372B17543ECB173730768B8D6C4"
ECB_MAC_EXAMPLE_MAB = (
    "08300000000002C000153030363730303436343238393733373031373933323330303200110000000137200277"
    "319F0605A0000003339F220103DF050832303234313233319F0605A0000003339F220104DF0508323032343132"
    "33319F0605A0000003339F220102DF050832303231313233319F0605A0000000039F220107DF05083230313731"
    "3233319F0605A0000000039F220108DF050832303233313233319F0605A0000000039F220109DF050832303233"
    "313233319F0605A0000000659F220110DF050832303232313233319F0605A0000000659F220112DF0508323032"
    "32313233319F0605A0000000659F220114DF050832303232313233319F0605A0000000049F220104DF05083230"
    "3137313233319F0605A0000000049F220105DF050832303231313233319F0605A0000000049F220106DF050832"
    "30323131323331"
)
ECB_MAC_EXAMPLE_F64 = "5FE058DB"

# MACs under the two-key test key above (message as hex, X9.19 MAC, ECB MAC F64), frozen. The
# messages are prefixes of "Now is the time for all men": empty, 7, 8, 24 and 27 bytes.
MAC_KEY = "0123456789ABCDEFFEDCBA9876543210"
MACS = (
    ("", "08D7B4FB629D0885", "423EADC4"),
    ("4E6F7720697320", "48B8AAA9519C6465", "E5D84F0B"),
    ("4E6F772069732074", "D80A0D8B2BAE5E4E", "50F29DBB"),
    ("4E6F77206973207468652074696D6520666F7220616C6C20", "A1C72E74EA3FA9B6", "F5BE6DD0"),
    ("4E6F77206973207468652074696D6520666F7220616C6C206D656E", "EF07BE017DB218CF", "780FE731"),
)
# X9.19 of the ECB MAC example's message under its key, frozen.
X919_OF_EXAMPLE = "A2F6AA0DE9C0F283"

# ISO 9564 format-0 PIN blocks (PIN, PAN, clear block, block under PIN_KEY by 3DES ECB).
# The first is the example published across the payment industry; the clear blocks follow from
# the definition by hand (PIN field XOR PAN field); the encrypted ones are frozen.
PIN_KEY = "A1B2C3D4E5F60718293A4B5C6D7E8F90"
PIN_BLOCKS = (
    ("1234", "43219876543210987", "0412AC89ABCDEF67", "9710608382BA4446"),
    ("1234", "4111111111111111", "041225EEEEEEEEEE", "382DAE098C19D199"),
    # the longest PIN with the shortest PAN, the shortest PIN with the longest PAN, a 6-digit PIN
    ("123456789012", "6222021234567", "0C1256747A8226A9", "21F333EA2E3DF6D4"),
    ("0000", "6222021234567890128", "040012CBA9876FED", "EC89A4A364E3E9A2"),
    ("987654", "6217001234567895675", "06986460A9876A98", "6FF2F37FDF5B6959"),
)

# ECDSA P-256 over SHA-256 with RFC 6979 deterministic nonces. The key and the "sample" and "test"
# signatures are published (RFC 6979, appendix A.2.5). The two digests given as hex are frozen (with
# `cryptography`'s deterministic_signing): all 0xFF (above the group order n, so bits2octets reduces
# it) and all zeros. tests/host/test_signer_oracle.py recomputes every signature with `cryptography`.
P256_PRIVATE = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"
P256_PUBLIC_X = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
P256_PUBLIC_Y = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"
P256_SIGNATURES = (
    # message (ASCII, hashed with SHA-256) or "#" + the digest as hex, r, s
    (
        "sample",
        "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
        "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
    ),
    (
        "test",
        "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
        "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
    ),
    (
        "#" + "FF" * 32,
        "1F2ADBC54B88764C279F689FC9505959FC9E73E80DC20889A4E0BE91865DE75B",
        "9D109B65E2FBFC0AE42BA0B2E5F03670CD458CFF4882DF6783F3D93D607D1755",
    ),
    (
        "#" + "00" * 32,
        "68897A78DF51058B490C6012251C95921ABBA96E2E488C8CC998942E440DB9B7",
        "80587FB387363A1DF2C9E83C00F8CA990FC0A55B5E470946499B82CA3B552A87",
    ),
)
