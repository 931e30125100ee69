--
-- registry_matrix: the compatibility matrix through the SQL API.  Every
-- kind of change the checker knows, for JSON Schema and Avro, under all
-- seven levels: each case registers the old schema as version 1 of its own
-- subject and asks tributary.check_compatibility about the new one.
--
-- The cases mirror the library's own matrix (schema_registry/test/
-- test_compat_json.c, test_compat_avro.c): backward_kinds are the
-- incompatible kinds when the new schema reads data written with the old
-- one, forward_kinds the other way round.  Each level expects: NONE
-- nothing, BACKWARD and BACKWARD_TRANSITIVE the backward kinds, FORWARD and
-- FORWARD_TRANSITIVE the forward kinds, FULL and FULL_TRANSITIVE both.
--
\set VERBOSITY terse

CREATE TEMP TABLE matrix_cases (
    schema_type    text NOT NULL,
    name           text NOT NULL,
    old_schema     jsonb NOT NULL,
    new_schema     jsonb NOT NULL,
    backward_kinds text NOT NULL,
    forward_kinds  text NOT NULL,
    PRIMARY KEY (schema_type, name)
);

INSERT INTO matrix_cases VALUES
    ('JSON', 'identical', '{"type":"string"}', '{"type":"string"}', '', ''),
    ('JSON', 'type_changed', '{"type":"string"}', '{"type":"integer"}', 'TYPE_CHANGED', 'TYPE_CHANGED'),
    ('JSON', 'integer_to_number', '{"type":"integer"}', '{"type":"number"}', '', 'TYPE_NARROWED'),
    ('JSON', 'max_length_added', '{"type":"string"}', '{"type":"string","maxLength":10}', 'MAX_LENGTH_ADDED', ''),
    ('JSON', 'max_length_increased', '{"type":"string","maxLength":10}', '{"type":"string","maxLength":20}', '', 'MAX_LENGTH_DECREASED'),
    ('JSON', 'min_length_increased', '{"type":"string","minLength":1}', '{"type":"string","minLength":5}', 'MIN_LENGTH_INCREASED', ''),
    ('JSON', 'pattern_added', '{"type":"string"}', '{"type":"string","pattern":"^a"}', 'PATTERN_ADDED', ''),
    ('JSON', 'pattern_changed', '{"type":"string","pattern":"^a"}', '{"type":"string","pattern":"^b"}', 'PATTERN_CHANGED', 'PATTERN_CHANGED'),
    ('JSON', 'maximum_decreased', '{"type":"number","maximum":100}', '{"type":"number","maximum":50}', 'MAXIMUM_DECREASED', ''),
    ('JSON', 'minimum_added', '{"type":"number"}', '{"type":"number","minimum":0}', 'MINIMUM_ADDED', ''),
    ('JSON', 'exclusive_maximum_increased', '{"type":"number","exclusiveMaximum":10}', '{"type":"number","exclusiveMaximum":20}', '', 'EXCLUSIVE_MAXIMUM_DECREASED'),
    ('JSON', 'exclusive_minimum_added', '{"type":"number"}', '{"type":"number","exclusiveMinimum":0}', 'EXCLUSIVE_MINIMUM_ADDED', ''),
    ('JSON', 'draft4_exclusive_maximum', '{"type":"number","maximum":10}', '{"type":"number","maximum":10,"exclusiveMaximum":true}', 'EXCLUSIVE_MAXIMUM_ADDED', 'MAXIMUM_ADDED'),
    ('JSON', 'multiple_of_reduced', '{"type":"number","multipleOf":0.01}', '{"type":"number","multipleOf":0.0001}', '', 'MULTIPLE_OF_EXPANDED'),
    ('JSON', 'multiple_of_changed', '{"type":"number","multipleOf":2}', '{"type":"number","multipleOf":3}', 'MULTIPLE_OF_CHANGED', 'MULTIPLE_OF_CHANGED'),
    ('JSON', 'int_range_widened', '{"type":"integer","minimum":-2147483648,"maximum":2147483647}', '{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}', '', 'MAXIMUM_DECREASED,MINIMUM_INCREASED'),
    ('JSON', 'enum_extended', '{"enum":["a","b"]}', '{"enum":["a","b","c"]}', '', 'ENUM_ARRAY_NARROWED'),
    ('JSON', 'enum_changed', '{"enum":["a","b"]}', '{"enum":["a","c"]}', 'ENUM_ARRAY_CHANGED', 'ENUM_ARRAY_CHANGED'),
    ('JSON', 'enum_added_to_string', '{"type":"string"}', '{"type":"string","enum":["a"]}', 'PRODUCT_TYPE_EXTENDED', ''),
    ('JSON', 'const_changed', '{"const":1}', '{"const":2}', 'ENUM_ARRAY_CHANGED', 'ENUM_ARRAY_CHANGED'),
    ('JSON', 'optional_property_added_closed', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":false}', '', 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'),
    ('JSON', 'required_property_added_closed', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["b"],"additionalProperties":false}', 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'),
    ('JSON', 'required_property_with_default_added_closed', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer","default":0}},"required":["b"],"additionalProperties":false}', '', 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'),
    ('JSON', 'optional_property_added_open', '{"type":"object","properties":{"a":{"type":"string"}}}', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}', 'OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', ''),
    ('JSON', 'required_property_added_open', '{"type":"object","properties":{"a":{"type":"string"}}}', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["b"]}', 'REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', ''),
    ('JSON', 'empty_property_added_open', '{"type":"object","properties":{"a":{"type":"string"}}}', '{"type":"object","properties":{"a":{"type":"string"},"b":{}}}', '', ''),
    ('JSON', 'property_removed_open', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}', '{"type":"object","properties":{"a":{"type":"string"}}}', '', 'OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL'),
    ('JSON', 'property_removed_closed', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}', 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', ''),
    ('JSON', 'false_property_removed_closed', '{"type":"object","properties":{"a":{"type":"string"},"x":false},"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}', '', ''),
    ('JSON', 'property_removed_covered_partial', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":{"type":"string"}}', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}', '', ''),
    ('JSON', 'property_removed_not_covered_partial', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":{"type":"integer"}}', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}}', 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,TYPE_CHANGED', 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,TYPE_CHANGED'),
    ('JSON', 'property_removed_covered_by_pattern', '{"type":"object","properties":{"a":{"type":"string"},"x_1":{"type":"string"}},"patternProperties":{"^x_":{"type":"string"}},"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"}},"patternProperties":{"^x_":{"type":"string"}},"additionalProperties":false}', '', ''),
    ('JSON', 'required_attribute_added', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}', 'REQUIRED_ATTRIBUTE_ADDED', ''),
    ('JSON', 'required_attribute_removed', '{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}', '', 'REQUIRED_ATTRIBUTE_ADDED'),
    ('JSON', 'content_model_opened', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}', '{"type":"object","properties":{"a":{"type":"string"}}}', '', 'ADDITIONAL_PROPERTIES_REMOVED'),
    ('JSON', 'additional_properties_narrowed', '{"type":"object","properties":{"a":{"type":"string"}}}', '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}', 'ADDITIONAL_PROPERTIES_NARROWED', ''),
    ('JSON', 'dependency_added', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}}}', '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"dependencies":{"a":["b"]}}', 'DEPENDENCY_ARRAY_ADDED', ''),
    ('JSON', 'min_properties_increased', '{"type":"object","minProperties":1}', '{"type":"object","minProperties":2}', 'MIN_PROPERTIES_INCREASED', ''),
    ('JSON', 'nested_property_type_changed', '{"type":"object","properties":{"addr":{"type":"object","properties":{"zip":{"type":"string"}},"additionalProperties":false}},"additionalProperties":false}', '{"type":"object","properties":{"addr":{"type":"object","properties":{"zip":{"type":"integer"}},"additionalProperties":false}},"additionalProperties":false}', 'TYPE_CHANGED', 'TYPE_CHANGED'),
    ('JSON', 'items_type_changed', '{"type":"array","items":{"type":"string"}}', '{"type":"array","items":{"type":"integer"}}', 'TYPE_CHANGED', 'TYPE_CHANGED'),
    ('JSON', 'items_widened', '{"type":"array","items":{"type":"integer"}}', '{"type":"array","items":{"type":"number"}}', '', 'TYPE_NARROWED'),
    ('JSON', 'items_added', '{"type":"array"}', '{"type":"array","items":{"type":"integer"}}', 'SCHEMA_ADDED', ''),
    ('JSON', 'max_items_added', '{"type":"array"}', '{"type":"array","maxItems":3}', 'MAX_ITEMS_ADDED', ''),
    ('JSON', 'unique_items_added', '{"type":"array"}', '{"type":"array","uniqueItems":true}', 'UNIQUE_ITEMS_ADDED', ''),
    ('JSON', 'tuple_item_added_closed', '{"type":"array","items":[{"type":"string"}],"additionalItems":false}', '{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}', '', 'ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL'),
    ('JSON', 'tuple_item_added_open', '{"type":"array","items":[{"type":"string"}]}', '{"type":"array","items":[{"type":"string"},{"type":"integer"}]}', 'ITEM_ADDED_TO_OPEN_CONTENT_MODEL', ''),
    ('JSON', 'prefix_item_added_open', '{"type":"array","prefixItems":[{"type":"string"}]}', '{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}]}', 'ITEM_ADDED_TO_OPEN_CONTENT_MODEL', ''),
    ('JSON', 'additional_items_removed', '{"type":"array","items":[{"type":"string"}]}', '{"type":"array","items":[{"type":"string"}],"additionalItems":false}', 'ADDITIONAL_ITEMS_REMOVED', ''),
    ('JSON', 'one_of_extended', '{"oneOf":[{"type":"string"},{"type":"integer"}]}', '{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"boolean"}]}', '', 'SUM_TYPE_NARROWED'),
    ('JSON', 'any_of_narrowed', '{"anyOf":[{"type":"string"},{"type":"integer"}]}', '{"anyOf":[{"type":"string"}]}', 'SUM_TYPE_NARROWED', ''),
    ('JSON', 'all_of_extended', '{"allOf":[{"type":"string"}]}', '{"allOf":[{"type":"string"},{"maxLength":5}]}', 'PRODUCT_TYPE_EXTENDED', ''),
    ('JSON', 'one_of_to_any_of', '{"oneOf":[{"type":"string"},{"type":"integer"}]}', '{"anyOf":[{"type":"string"},{"type":"integer"}]}', '', 'COMBINED_TYPE_CHANGED'),
    ('JSON', 'any_of_to_all_of', '{"anyOf":[{"type":"string"},{"type":"integer"}]}', '{"allOf":[{"type":"string"},{"type":"integer"}]}', 'COMBINED_TYPE_CHANGED', ''),
    ('JSON', 'one_of_branch_changed', '{"oneOf":[{"type":"string"},{"type":"integer"}]}', '{"oneOf":[{"type":"string"},{"type":"boolean"}]}', 'COMBINED_TYPE_SUBSCHEMAS_CHANGED', 'COMBINED_TYPE_SUBSCHEMAS_CHANGED'),
    ('JSON', 'one_of_branch_constrained', '{"oneOf":[{"type":"null"},{"type":"string"}]}', '{"oneOf":[{"type":"null"},{"type":"string","maxLength":5}]}', 'COMBINED_TYPE_SUBSCHEMAS_CHANGED,MAX_LENGTH_ADDED', ''),
    ('JSON', 'made_nullable_one_of', '{"type":"string"}', '{"oneOf":[{"type":"null"},{"type":"string"}]}', '', 'TYPE_CHANGED'),
    ('JSON', 'made_nullable_type_array', '{"type":"string"}', '{"type":["string","null"]}', '', 'TYPE_CHANGED'),
    ('JSON', 'not_extended', '{"not":{"type":"string"}}', '{"not":{"type":["string","integer"]}}', 'NOT_TYPE_EXTENDED', ''),
    ('JSON', 'ref_target_changed', '{"definitions":{"s":{"type":"string","maxLength":5}},"type":"object","properties":{"a":{"$ref":"#/definitions/s"}}}', '{"$defs":{"s":{"type":"string","maxLength":10}},"type":"object","properties":{"a":{"$ref":"#/$defs/s"}}}', '', 'MAX_LENGTH_DECREASED'),
    ('JSON', 'recursive_ref', '{"$defs":{"n":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/n"}}}}},"$ref":"#/$defs/n"}', '{"$defs":{"n":{"type":"object","properties":{"v":{"type":"number"},"kids":{"type":"array","items":{"$ref":"#/$defs/n"}}}}},"$ref":"#/$defs/n"}', '', 'TYPE_NARROWED'),
    ('JSON', 'true_to_string', 'true', '{"type":"string"}', 'TYPE_CHANGED', ''),
    ('JSON', 'false_to_string', 'false', '{"type":"string"}', '', 'TYPE_CHANGED'),
    ('AVRO', 'identical', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '', ''),
    ('AVRO', 'int_to_long', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"long"}]}', '', 'TYPE_MISMATCH'),
    ('AVRO', 'long_to_int', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"long"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', 'TYPE_MISMATCH', ''),
    ('AVRO', 'int_to_float', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"float"}]}', '', 'TYPE_MISMATCH'),
    ('AVRO', 'long_to_double', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"long"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"double"}]}', '', 'TYPE_MISMATCH'),
    ('AVRO', 'float_to_double', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"float"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"double"}]}', '', 'TYPE_MISMATCH'),
    ('AVRO', 'string_to_bytes', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"string"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"bytes"}]}', '', ''),
    ('AVRO', 'string_to_int', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"string"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', 'TYPE_MISMATCH', 'TYPE_MISMATCH'),
    ('AVRO', 'boolean_to_int', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"boolean"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', 'TYPE_MISMATCH', 'TYPE_MISMATCH'),
    ('AVRO', 'field_added_with_default', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}]}', '', ''),
    ('AVRO', 'field_added_without_default', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}', 'READER_FIELD_MISSING_DEFAULT_VALUE', ''),
    ('AVRO', 'nullable_field_added', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"},{"name":"b","type":["null","string"],"default":null}]}', '', ''),
    ('AVRO', 'field_removed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '', 'READER_FIELD_MISSING_DEFAULT_VALUE'),
    ('AVRO', 'field_with_default_removed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '', ''),
    ('AVRO', 'field_renamed_with_alias', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"b","type":"int","aliases":["a"]}]}', '', 'READER_FIELD_MISSING_DEFAULT_VALUE'),
    ('AVRO', 'field_renamed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"b","type":"int"}]}', 'READER_FIELD_MISSING_DEFAULT_VALUE', 'READER_FIELD_MISSING_DEFAULT_VALUE'),
    ('AVRO', 'record_renamed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"s","namespace":"n","fields":[{"name":"a","type":"int"}]}', 'NAME_MISMATCH', 'NAME_MISMATCH'),
    ('AVRO', 'record_renamed_with_alias', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"s","namespace":"n","aliases":["r"],"fields":[{"name":"a","type":"int"}]}', '', 'NAME_MISMATCH'),
    ('AVRO', 'namespace_changed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"m","fields":[{"name":"a","type":"int"}]}', '', ''),
    ('AVRO', 'enum_symbol_added', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}}]}', '', 'MISSING_ENUM_SYMBOLS'),
    ('AVRO', 'enum_symbol_removed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}}]}', 'MISSING_ENUM_SYMBOLS', ''),
    ('AVRO', 'enum_symbol_removed_reader_default', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"],"default":"X"}}]}', '', ''),
    ('AVRO', 'enum_symbol_added_old_default', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"],"default":"X"}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"],"default":"X"}}]}', '', ''),
    ('AVRO', 'enum_renamed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"G","symbols":["X"]}}]}', 'NAME_MISMATCH', 'NAME_MISMATCH'),
    ('AVRO', 'union_branch_added', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":["null","int"]}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":["null","int","string"]}]}', '', 'MISSING_UNION_BRANCH'),
    ('AVRO', 'union_branch_removed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":["null","int","string"]}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":["null","int"]}]}', 'MISSING_UNION_BRANCH', ''),
    ('AVRO', 'made_nullable', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":["null","int"],"default":null}]}', '', 'TYPE_MISMATCH'),
    ('AVRO', 'made_not_null', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":["null","int"],"default":null}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', 'TYPE_MISMATCH', ''),
    ('AVRO', 'union_branch_promoted', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":["null","int"]}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":["null","long"]}]}', '', 'MISSING_UNION_BRANCH'),
    ('AVRO', 'fixed_size_changed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":4}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":8}}]}', 'FIXED_SIZE_MISMATCH', 'FIXED_SIZE_MISMATCH'),
    ('AVRO', 'fixed_renamed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":4}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"f","type":{"type":"fixed","name":"G","size":4}}]}', 'NAME_MISMATCH', 'NAME_MISMATCH'),
    ('AVRO', 'array_items_promoted', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":{"type":"array","items":"int"}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":{"type":"array","items":"long"}}]}', '', 'TYPE_MISMATCH'),
    ('AVRO', 'map_values_changed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"m","type":{"type":"map","values":"string"}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"m","type":{"type":"map","values":"int"}}]}', 'TYPE_MISMATCH', 'TYPE_MISMATCH'),
    ('AVRO', 'array_to_map', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":{"type":"array","items":"int"}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":{"type":"map","values":"int"}}]}', 'TYPE_MISMATCH', 'TYPE_MISMATCH'),
    ('AVRO', 'recursive_value_promoted', '{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"],"default":null}]}', '{"type":"record","name":"L","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","L"],"default":null}]}', '', 'TYPE_MISMATCH'),
    ('AVRO', 'recursive_identical', '{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"],"default":null}]}', '{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"],"default":null}]}', '', ''),
    ('AVRO', 'decimal_scale_changed', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":4}}]}', 'TYPE_MISMATCH', 'TYPE_MISMATCH'),
    ('AVRO', 'decimal_precision_widened', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}}]}', '', 'TYPE_MISMATCH'),
    ('AVRO', 'record_to_string', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"}]}', '"string"', 'TYPE_MISMATCH', 'TYPE_MISMATCH'),
    ('AVRO', 'many_at_once', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"},{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}}]}', '{"type":"record","name":"r","namespace":"n","fields":[{"name":"a","type":"string"},{"name":"c","type":"int"},{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}}]}', 'MISSING_ENUM_SYMBOLS,READER_FIELD_MISSING_DEFAULT_VALUE,TYPE_MISMATCH', 'READER_FIELD_MISSING_DEFAULT_VALUE,TYPE_MISMATCH');

SELECT schema_type, count(*) AS cases FROM matrix_cases GROUP BY 1 ORDER BY 1;

-- The levels and what each expects of a case.
CREATE TEMP TABLE matrix_levels (level text PRIMARY KEY, backward bool, forward bool);
INSERT INTO matrix_levels VALUES
    ('NONE', false, false),
    ('BACKWARD', true, false), ('BACKWARD_TRANSITIVE', true, false),
    ('FORWARD', false, true), ('FORWARD_TRANSITIVE', false, true),
    ('FULL', true, true), ('FULL_TRANSITIVE', true, true);

-- kinds_union: two comma-separated kind lists merged, sorted, no repeats.
CREATE FUNCTION pg_temp.kinds_union(a text, b text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(string_agg(DISTINCT k COLLATE "C", ',' ORDER BY k COLLATE "C"), '')
      FROM unnest(string_to_array(a, ',') || string_to_array(b, ',')) AS k
     WHERE k <> ''
$$;

-- Version 1 of every case's subject is its old schema.
SELECT count(*) AS registered
  FROM matrix_cases AS c,
       LATERAL tributary.register_schema('matrix/' || c.schema_type || '/' || c.name,
                                         c.old_schema, c.schema_type) AS r
 WHERE r.version = 1;

-- Every case under every level: what the SQL API reports.
CREATE TEMP TABLE matrix_results AS
SELECT c.schema_type, c.name, l.level,
       pg_temp.kinds_union(CASE WHEN l.backward THEN c.backward_kinds ELSE '' END,
                           CASE WHEN l.forward THEN c.forward_kinds ELSE '' END) AS expected,
       (SELECT coalesce(string_agg(DISTINCT x.kind COLLATE "C", ',' ORDER BY x.kind COLLATE "C"), '')
          FROM tributary.check_compatibility('matrix/' || c.schema_type || '/' || c.name,
                                             c.new_schema, l.level, c.schema_type) AS x) AS got
  FROM matrix_cases AS c CROSS JOIN matrix_levels AS l;

SELECT count(*) AS cells, count(*) FILTER (WHERE expected = got) AS as_expected
  FROM matrix_results;
-- Any cell that differs (none).
SELECT schema_type, name, level, expected, got
  FROM matrix_results WHERE expected <> got
 ORDER BY 1, 2, 3;

-- The matrix itself, one line per case: the kinds each direction reports.
SELECT r.schema_type, r.name,
       max(r.got) FILTER (WHERE r.level = 'BACKWARD') AS backward,
       max(r.got) FILTER (WHERE r.level = 'FORWARD') AS forward
  FROM matrix_results AS r
 GROUP BY 1, 2
 ORDER BY 1, 2;

-- Every violation carries a path and a sentence, and names version 1 with
-- the direction of the check that found it.
SELECT count(*) AS violations,
       count(*) FILTER (WHERE x.path <> '' AND length(x.message) > 20
                        AND x.previous_version = 1
                        AND x.direction IN ('BACKWARD', 'FORWARD')) AS well_formed,
       count(*) FILTER (WHERE x.direction = 'BACKWARD') AS backward,
       count(*) FILTER (WHERE x.direction = 'FORWARD') AS forward
  FROM matrix_cases AS c,
       LATERAL tributary.check_compatibility('matrix/' || c.schema_type || '/' || c.name,
                                             c.new_schema, 'FULL', c.schema_type) AS x;

-- The level in effect is the subject's own, else the global one: with no
-- level given, check_compatibility uses it (BACKWARD by default).
SELECT kind FROM tributary.check_compatibility('matrix/JSON/type_changed', '{"type":"integer"}');
SELECT tributary.set_compatibility('matrix/JSON/integer_to_number', 'FORWARD');
SELECT kind FROM tributary.check_compatibility('matrix/JSON/integer_to_number', '{"type":"number"}');
SELECT tributary.set_compatibility(NULL, 'NONE');
SELECT count(*) AS with_global_none
  FROM tributary.check_compatibility('matrix/JSON/type_changed', '{"type":"integer"}');
SELECT tributary.set_compatibility(NULL, NULL);

-- Transitive levels check every version, the plain ones only the latest.
-- Avro: v2 adds a field with a default, v3 drops the default.  v3 reads
-- v2's data (the field is there) but not v1's.
SELECT tributary.set_compatibility('matrix/transitive', 'NONE');
SELECT version FROM tributary.register_schema('matrix/transitive',
    '{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}', 'AVRO');
SELECT version FROM tributary.register_schema('matrix/transitive',
    '{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""}]}', 'AVRO');
SELECT l.level, x.previous_version, x.direction, x.kind, x.path
  FROM matrix_levels AS l
  LEFT JOIN LATERAL tributary.check_compatibility('matrix/transitive',
    '{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}',
    l.level) AS x ON true
 ORDER BY l.level, x.previous_version, x.direction, x.kind;

-- JSON Schema: maxLength 10, then 20, then 15.  BACKWARD against v2 breaks
-- (15 < 20); FORWARD_TRANSITIVE also finds v1 (10) reading 15-long strings.
SELECT version FROM tributary.register_schema('matrix/transitive-json',
    '{"type":"string","maxLength":10}');
SELECT version FROM tributary.register_schema('matrix/transitive-json',
    '{"type":"string","maxLength":20}');
SELECT l.level, x.previous_version, x.direction, x.kind, x.path
  FROM matrix_levels AS l
  LEFT JOIN LATERAL tributary.check_compatibility('matrix/transitive-json',
    '{"type":"string","maxLength":15}', l.level) AS x ON true
 ORDER BY l.level, x.previous_version, x.direction, x.kind;

-- A schema of the other format than the latest version.
SELECT previous_version, direction, kind
  FROM tributary.check_compatibility('matrix/transitive-json', '"string"', 'FULL', 'AVRO')
 ORDER BY 1, 2;

-- Clean up: the registry tables belong to the extension; only their rows go.
DELETE FROM tributary.registry_versions;
DELETE FROM tributary.registry_schemas;
DELETE FROM tributary.registry_subjects;
DELETE FROM tributary.compatibility_config;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
