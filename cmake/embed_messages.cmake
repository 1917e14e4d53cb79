# Turn the message templates (data/messages/<lang>/<name>.txt|.html) into
# one C file: each file a byte array, and a table of them by path. Bytes,
# not a string literal: a letter is longer than the 4095 characters C
# promises for a literal (-Woverlength-strings), and a translator's "??"
# must not turn into a trigraph.
# Usage: cmake -DDIR=data/messages -DOUT=file.c -P embed_messages.cmake
file(GLOB_RECURSE files RELATIVE ${DIR} ${DIR}/*.txt ${DIR}/*.html)
list(SORT files)
set(body "")
set(index "")
set(i 0)
foreach(f ${files})
  file(READ ${DIR}/${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" hex "${hex}")
  string(APPEND body "static const unsigned char f${i}[] = {\n${hex}0x00};\n")
  string(APPEND index "\t{\"${f}\", (const char *)f${i}, sizeof(f${i}) - 1},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT} "/* Generated from ${DIR} by cmake/embed_messages.cmake. */\n"
  "#include \"notify/notify_internal.h\"\n\n${body}\n"
  "const struct notify_template notify_templates[] = {\n${index}};\n"
  "const size_t notify_ntemplates = ${i};\n")
