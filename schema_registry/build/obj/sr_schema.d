build/obj/sr_schema.o: src/sr_schema.c src/sr_avro.h src/sr_int.h \
 include/tribsr.h
src/sr_avro.h:
src/sr_int.h:
include/tribsr.h:
