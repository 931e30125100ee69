build/obj/sr_fingerprint.o: src/sr_fingerprint.c src/sr_int.h \
 include/tribsr.h
src/sr_int.h:
include/tribsr.h:
