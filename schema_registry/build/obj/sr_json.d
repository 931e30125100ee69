build/obj/sr_json.o: src/sr_json.c src/sr_int.h include/tribsr.h
src/sr_int.h:
include/tribsr.h:
