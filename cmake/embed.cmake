# Script mode: -DIN=file -DOUT=file.c -DSYM=name. Writes `const char name[] = {...};`.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n  " bytes "${bytes}")
file(WRITE ${OUT} "/* generated from ${IN} by cmake/embed.cmake; do not edit */\n"
  "const char ${SYM}[] = {\n  ${bytes}0x00};\n")
