build/obj/sr_jsch_kinds.o: src/sr_jsch_kinds.c src/sr_jsch.h src/sr_int.h \
 include/tribsr.h
src/sr_jsch.h:
src/sr_int.h:
include/tribsr.h:
