# Turn a text file into a C string constant (the domain tables in data/
# ship inside the binary, so a deployment cannot lose them).
# Usage: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
file(READ ${IN} content)
string(REPLACE "\\" "\\\\" content "${content}")
string(REPLACE "\"" "\\\"" content "${content}")
string(REPLACE "\n" "\\n\"\n\"" content "${content}")
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/embed.cmake. */\nextern const char ${NAME}[];\nconst char ${NAME}[] =\n\"${content}\";\n")
