build/obj/sr_compat.o: src/sr_compat.c src/sr_int.h include/tribsr.h
src/sr_int.h:
include/tribsr.h:
