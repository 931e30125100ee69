build/obj/sr_avro_compat.o: src/sr_avro_compat.c src/sr_avro.h \
 src/sr_int.h include/tribsr.h
src/sr_avro.h:
src/sr_int.h:
include/tribsr.h:
