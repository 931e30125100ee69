build/obj/sr_buf.o: src/sr_buf.c src/sr_int.h include/tribsr.h
src/sr_int.h:
include/tribsr.h:
