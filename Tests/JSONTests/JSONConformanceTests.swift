import JSON
import XCTest

/// The JSONTestSuite categories (github.com/nst/JSONTestSuite), written inline: `y_` must
/// parse, `n_` must be rejected, `i_` is the implementation's choice and shoal's choice is
/// pinned here. Names follow the suite's file names.
final class JSONConformanceTests: XCTestCase {
    static let accepted: [(String, [UInt8])] = [
        ("y_array_arraysWithSpaces", doc("[[]   ]")),
        ("y_array_empty", doc("[]")),
        ("y_array_empty-string", doc(#"[""]"#)),
        ("y_array_false", doc("[false]")),
        ("y_array_heterogeneous", doc(#"[null, 1, "1", {}]"#)),
        ("y_array_null", doc("[null]")),
        ("y_array_with_1_and_newline", doc("[1\n]")),
        ("y_array_with_leading_space", doc(" [1]")),
        ("y_array_with_several_null", doc("[1,null,null,null,2]")),
        ("y_array_with_trailing_space", doc("[2] ")),
        ("y_number", doc("[123e65]")),
        ("y_number_0e+1", doc("[0e+1]")),
        ("y_number_0e1", doc("[0e1]")),
        ("y_number_after_space", doc("[ 4]")),
        ("y_number_double_close_to_zero", doc("[-0.000000000000000000000000000000000000000000000000000000000000000000000000000000001]")),
        ("y_number_int_with_exp", doc("[20e1]")),
        ("y_number_minus_zero", doc("[-0]")),
        ("y_number_negative_int", doc("[-123]")),
        ("y_number_negative_one", doc("[-1]")),
        ("y_number_real_capital_e", doc("[1E22]")),
        ("y_number_real_capital_e_neg_exp", doc("[1E-2]")),
        ("y_number_real_capital_e_pos_exp", doc("[1E+2]")),
        ("y_number_real_exponent", doc("[123e45]")),
        ("y_number_real_fraction_exponent", doc("[123.456e78]")),
        ("y_number_real_neg_exp", doc("[1e-2]")),
        ("y_number_real_pos_exponent", doc("[1e+2]")),
        ("y_number_simple_int", doc("[123]")),
        ("y_number_simple_real", doc("[123.456789]")),
        ("y_object", doc(#"{"asd":"sdf", "dfg":"fgh"}"#)),
        ("y_object_basic", doc(#"{"asd":"sdf"}"#)),
        ("y_object_empty", doc("{}")),
        ("y_object_empty_key", doc(#"{"":0}"#)),
        ("y_object_escaped_null_in_key", doc(#"{"foo\u0000bar": 42}"#)),
        ("y_object_extreme_numbers", doc(#"{ "min": -1.0e+28, "max": 1.0e+28 }"#)),
        ("y_object_long_strings", doc(#"{"x":[{"id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}], "id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#)),
        ("y_object_simple", doc(#"{"a":[]}"#)),
        ("y_object_string_unicode", doc(#"{"title":"\u041f\u043e\u043b\u0442\u043e\u0440\u0430 \u0417\u0435\u043c\u043b\u0435\u043a\u043e\u043f\u0430" }"#)),
        ("y_object_with_newlines", doc("{\n\"a\": \"b\"\n}")),
        ("y_string_1_2_3_bytes_UTF-8_sequences", doc(#"["\u0060\u012a\u12AB"]"#)),
        ("y_string_accepted_surrogate_pair", doc(#"["\uD801\udc37"]"#)),
        ("y_string_accepted_surrogate_pairs", doc(#"["\ud83d\ude39\ud83d\udc8d"]"#)),
        ("y_string_allowed_escapes", doc(#"["\"\\\/\b\f\n\r\t"]"#)),
        ("y_string_backslash_and_u_escaped_zero", doc(#"["\\u0000"]"#)),
        ("y_string_backslash_doublequotes", doc(#"["\""]"#)),
        ("y_string_comments", doc(#"["a/*b*/c/*d//e"]"#)),
        ("y_string_double_escape_a", doc(#"["\\a"]"#)),
        ("y_string_double_escape_n", doc(#"["\\n"]"#)),
        ("y_string_escaped_control_character", doc(#"["\u0012"]"#)),
        ("y_string_escaped_noncharacter", doc(#"["\uFFFF"]"#)),
        ("y_string_in_array", doc(#"["asd"]"#)),
        ("y_string_in_array_with_leading_space", doc(#"[ "asd"]"#)),
        ("y_string_last_surrogates_1_and_2", doc(#"["\uDBFF\uDFFF"]"#)),
        ("y_string_nbsp_uescaped", doc(#"["new\u00A0line"]"#)),
        ("y_string_nonCharacterInUTF-8_U+10FFFF", doc("[\"", 0xF4, 0x8F, 0xBF, 0xBF, "\"]")),
        ("y_string_nonCharacterInUTF-8_U+FFFF", doc("[\"", 0xEF, 0xBF, 0xBF, "\"]")),
        ("y_string_null_escape", doc(#"["\u0000"]"#)),
        ("y_string_one-byte-utf-8", doc(#"["\u002c"]"#)),
        ("y_string_pi", doc("[\"π\"]")),
        ("y_string_reservedCharacterInUTF-8_U+1BFFF", doc("[\"", 0xF0, 0x9B, 0xBF, 0xBF, "\"]")),
        ("y_string_simple_ascii", doc(#"["asd "]"#)),
        ("y_string_space", doc(#"" ""#)),
        ("y_string_surrogates_U+1D11E_MUSICAL_SYMBOL_G_CLEF", doc(#"["\uD834\uDd1e"]"#)),
        ("y_string_three-byte-utf-8", doc(#"["\u0821"]"#)),
        ("y_string_two-byte-utf-8", doc(#"["\u0123"]"#)),
        ("y_string_u+2028_line_sep", doc("[\"\u{2028}\"]")),
        ("y_string_u+2029_par_sep", doc("[\"\u{2029}\"]")),
        ("y_string_uEscape", doc(#"["\u0061\u30af\u30EA\u30b9"]"#)),
        ("y_string_uescaped_newline", doc(#"["new\u000Aline"]"#)),
        ("y_string_unescaped_char_delete", doc("[\"", 0x7F, "\"]")),
        ("y_string_unicode", doc(#"["\uA66D"]"#)),
        ("y_string_unicodeEscapedBackslash", doc(#"["\u005C"]"#)),
        ("y_string_unicode_2", doc("[\"⍂㈴⍂\"]")),
        ("y_string_unicode_U+10FFFE_nonchar", doc(#"["\uDBFF\uDFFE"]"#)),
        ("y_string_unicode_U+1FFFE_nonchar", doc(#"["\uD83F\uDFFE"]"#)),
        ("y_string_unicode_U+200B_ZERO_WIDTH_SPACE", doc(#"["\u200B"]"#)),
        ("y_string_unicode_U+2064_invisible_plus", doc(#"["\u2064"]"#)),
        ("y_string_unicode_U+FDD0_nonchar", doc(#"["\uFDD0"]"#)),
        ("y_string_unicode_U+FFFE_nonchar", doc(#"["\uFFFE"]"#)),
        ("y_string_unicode_escaped_double_quote", doc(#"["\u0022"]"#)),
        ("y_string_utf8", doc("[\"€𝄞\"]")),
        ("y_string_with_del_character", doc("[\"a", 0x7F, "a\"]")),
        ("y_structure_lonely_false", doc("false")),
        ("y_structure_lonely_int", doc("42")),
        ("y_structure_lonely_negative_real", doc("-0.1")),
        ("y_structure_lonely_null", doc("null")),
        ("y_structure_lonely_string", doc(#""asd""#)),
        ("y_structure_lonely_true", doc("true")),
        ("y_structure_string_empty", doc(#""""#)),
        ("y_structure_trailing_newline", doc("[\"a\"]\n")),
        ("y_structure_true_in_array", doc("[true]")),
        ("y_structure_whitespace_array", doc(" [] ")),
        ("rfc8259_example_image", doc(#"""
            {
              "Image": {
                "Width": 800, "Height": 600, "Title": "View from 15th Floor",
                "Thumbnail": {"Url": "http://www.example.com/image/481989943", "Height": 125, "Width": 100},
                "Animated" : false,
                "IDs": [116, 943, 234, 38793]
              }
            }
            """#)),
        ("rfc8259_example_array", doc(#"""
            [{"precision": "zip", "Latitude": 37.7668, "Longitude": -122.3959, "Address": "",
              "City": "SAN FRANCISCO", "State": "CA", "Zip": "94107", "Country": "US"}]
            """#)),
        ("rfc8259_whitespace_all_four", doc(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n2 \t\r\n} \t\r\n] \t\r\n")),
    ]

    static let rejected: [(String, [UInt8])] = [
        ("n_array_1_true_without_comma", doc("[1 true]")),
        ("n_array_a_invalid_utf8", doc("[a", 0xE5, "]")),
        ("n_array_colon_instead_of_comma", doc(#"["": 1]"#)),
        ("n_array_comma_after_close", doc(#"[""],"#)),
        ("n_array_comma_and_number", doc("[,1]")),
        ("n_array_double_comma", doc("[1,,2]")),
        ("n_array_double_extra_comma", doc(#"["x",,]"#)),
        ("n_array_extra_close", doc(#"["x"]]"#)),
        ("n_array_extra_comma", doc(#"["",]"#)),
        ("n_array_incomplete", doc(#"["x""#)),
        ("n_array_incomplete_invalid_value", doc("[x")),
        ("n_array_inner_array_no_comma", doc("[3[4]]")),
        ("n_array_invalid_utf8", doc("[", 0xFF, "]")),
        ("n_array_items_separated_by_semicolon", doc("[1:2]")),
        ("n_array_just_comma", doc("[,]")),
        ("n_array_just_minus", doc("[-]")),
        ("n_array_missing_value", doc(#"[   , ""]"#)),
        ("n_array_newlines_unclosed", doc("[\"a\",\n4\n,1,")),
        ("n_array_number_and_comma", doc("[1,]")),
        ("n_array_number_and_several_commas", doc("[1,,]")),
        ("n_array_spaces_vertical_tab_formfeed", doc("[\"", 0x0B, "a\"", 0x0C, "]")),
        ("n_array_star_inside", doc("[*]")),
        ("n_array_unclosed", doc(#"["""#)),
        ("n_array_unclosed_trailing_comma", doc("[1,")),
        ("n_array_unclosed_with_new_lines", doc("[1,\n1\n,1")),
        ("n_array_unclosed_with_object_inside", doc("[{}")),
        ("n_incomplete_false", doc("[fals]")),
        ("n_incomplete_null", doc("[nul]")),
        ("n_incomplete_true", doc("[tru]")),
        ("n_multidigit_number_then_00", doc("123", 0x00)),
        ("n_number_++", doc("[++1234]")),
        ("n_number_+1", doc("[+1]")),
        ("n_number_+Inf", doc("[+Inf]")),
        ("n_number_-01", doc("[-01]")),
        ("n_number_-1.0.", doc("[-1.0.]")),
        ("n_number_-2.", doc("[-2.]")),
        ("n_number_-NaN", doc("[-NaN]")),
        ("n_number_.-1", doc("[.-1]")),
        ("n_number_.2e-3", doc("[.2e-3]")),
        ("n_number_0.1.2", doc("[0.1.2]")),
        ("n_number_0.3e+", doc("[0.3e+]")),
        ("n_number_0.3e", doc("[0.3e]")),
        ("n_number_0.e1", doc("[0.e1]")),
        ("n_number_0_capital_E+", doc("[0E+]")),
        ("n_number_0_capital_E", doc("[0E]")),
        ("n_number_0e+", doc("[0e+]")),
        ("n_number_0e", doc("[0e]")),
        ("n_number_1.0e+", doc("[1.0e+]")),
        ("n_number_1.0e-", doc("[1.0e-]")),
        ("n_number_1.0e", doc("[1.0e]")),
        ("n_number_1_000", doc("[1 000.0]")),
        ("n_number_1eE2", doc("[1eE2]")),
        ("n_number_2.e+3", doc("[2.e+3]")),
        ("n_number_2.e-3", doc("[2.e-3]")),
        ("n_number_2.e3", doc("[2.e3]")),
        ("n_number_9.e+", doc("[9.e+]")),
        ("n_number_Inf", doc("[Inf]")),
        ("n_number_NaN", doc("[NaN]")),
        ("n_number_U+FF11_fullwidth_digit_one", doc("[１]")),
        ("n_number_expression", doc("[1+2]")),
        ("n_number_hex_1_digit", doc("[0x1]")),
        ("n_number_hex_2_digits", doc("[0x42]")),
        ("n_number_infinity", doc("[Infinity]")),
        ("n_number_invalid+-", doc("[0e+-1]")),
        ("n_number_invalid-negative-real", doc("[-123.123foo]")),
        ("n_number_minus_infinity", doc("[-Infinity]")),
        ("n_number_minus_sign_with_trailing_garbage", doc("[-foo]")),
        ("n_number_minus_space_1", doc("[- 1]")),
        ("n_number_neg_int_starting_with_zero", doc("[-012]")),
        ("n_number_neg_real_without_int_part", doc("[-.123]")),
        ("n_number_neg_with_garbage_at_end", doc("[-1x]")),
        ("n_number_real_garbage_after_e", doc("[1ea]")),
        ("n_number_real_without_fractional_part", doc("[1.]")),
        ("n_number_starting_with_dot", doc("[.123]")),
        ("n_number_with_alpha", doc("[1.2a-3]")),
        ("n_number_with_alpha_char", doc("[1.8011670033376514H-308]")),
        ("n_number_with_leading_zero", doc("[012]")),
        ("n_object_bad_value", doc(#"["x", truth]"#)),
        ("n_object_bracket_key", doc(#"{[: "x"}"#)),
        ("n_object_comma_instead_of_colon", doc(#"{"x", null}"#)),
        ("n_object_double_colon", doc(#"{"x"::"b"}"#)),
        ("n_object_emoji", doc("{🇨🇭}")),
        ("n_object_garbage_at_end", doc(#"{"a":"a" 123}"#)),
        ("n_object_key_with_single_quotes", doc("{key: 'value'}")),
        ("n_object_missing_colon", doc(#"{"a" b}"#)),
        ("n_object_missing_key", doc(#"{:"b"}"#)),
        ("n_object_missing_semicolon", doc(#"{"a" "b"}"#)),
        ("n_object_missing_value", doc(#"{"a":"#)),
        ("n_object_no-colon", doc(#"{"a""#)),
        ("n_object_non_string_key", doc("{1:1}")),
        ("n_object_non_string_key_but_huge_number_instead", doc("{9999E9999:1}")),
        ("n_object_repeated_null_null", doc("{null:null,null:null}")),
        ("n_object_several_trailing_commas", doc(#"{"id":0,,,,,}"#)),
        ("n_object_single_quote", doc("{'a':0}")),
        ("n_object_trailing_comma", doc(#"{"id":0,}"#)),
        ("n_object_trailing_comment", doc(#"{"a":"b"}/**/"#)),
        ("n_object_trailing_comment_open", doc(#"{"a":"b"}/**//"#)),
        ("n_object_trailing_comment_slash_open", doc(#"{"a":"b"}//"#)),
        ("n_object_trailing_comment_slash_open_incomplete", doc(#"{"a":"b"}/"#)),
        ("n_object_two_commas_in_a_row", doc(#"{"a":"b",,"c":"d"}"#)),
        ("n_object_unquoted_key", doc(#"{a: "b"}"#)),
        ("n_object_unterminated-value", doc(#"{"a":"a"#)),
        ("n_object_with_single_string", doc(#"{ "foo" : "bar", "a" }"#)),
        ("n_object_with_trailing_garbage", doc(#"{"a":"b"}#"#)),
        ("n_single_space", doc(" ")),
        ("n_string_1_surrogate_then_escape", doc(#"["\uD800\"]"#)),
        ("n_string_1_surrogate_then_escape_u", doc(#"["\uD800\u"]"#)),
        ("n_string_1_surrogate_then_escape_u1", doc(#"["\uD800\u1"]"#)),
        ("n_string_1_surrogate_then_escape_u1x", doc(#"["\uD800\u1x"]"#)),
        ("n_string_accentuated_char_no_quotes", doc("[é]")),
        ("n_string_backslash_00", doc("[\"\\", 0x00, "\"]")),
        ("n_string_escape_x", doc(#"["\x00"]"#)),
        ("n_string_escaped_backslash_bad", doc(#"["\\\"]"#)),
        ("n_string_escaped_ctrl_char_tab", doc("[\"\\\t\"]")),
        ("n_string_escaped_emoji", doc("[\"\\🌀\"]")),
        ("n_string_incomplete_escape", doc(#"["\"]"#)),
        ("n_string_incomplete_escaped_character", doc(#"["\u00A"]"#)),
        ("n_string_incomplete_surrogate", doc(#"["\uD834\uDd"]"#)),
        ("n_string_incomplete_surrogate_escape_invalid", doc(#"["\uD800\uD800\x"]"#)),
        ("n_string_invalid-utf-8-in-escape", doc("[\"\\u", 0xE5, "\"]")),
        ("n_string_invalid_backslash_esc", doc(#"["\a"]"#)),
        ("n_string_invalid_unicode_escape", doc(#"["\uqqqq"]"#)),
        ("n_string_invalid_utf8_after_escape", doc("[\"\\", 0xE5, "\"]")),
        ("n_string_leading_uescaped_thinspace", doc(#"[\u0020"asd"]"#)),
        ("n_string_no_quotes_with_bad_escape", doc(#"[\n]"#)),
        ("n_string_single_doublequote", doc("\"")),
        ("n_string_single_quote", doc("['single quote']")),
        ("n_string_single_string_no_double_quotes", doc("abc")),
        ("n_string_start_escape_unclosed", doc(#"["\"#)),
        ("n_string_unescaped_ctrl_char", doc("[\"a", 0x00, "a\"]")),
        ("n_string_unescaped_newline", doc("[\"new\nline\"]")),
        ("n_string_unescaped_tab", doc("[\"\t\"]")),
        ("n_string_unicode_CapitalU", doc(#""\UA66D""#)),
        ("n_string_with_trailing_garbage", doc(#"""x"#)),
        ("n_structure_angle_bracket_.", doc("<.>")),
        ("n_structure_angle_bracket_null", doc("[<null>]")),
        ("n_structure_array_trailing_garbage", doc("[1]x")),
        ("n_structure_array_with_extra_array_close", doc("[1]]")),
        ("n_structure_array_with_unclosed_string", doc(#"["asd]"#)),
        ("n_structure_ascii-unicode-identifier", doc("aå")),
        ("n_structure_capitalized_True", doc("[True]")),
        ("n_structure_close_unopened_array", doc("1]")),
        ("n_structure_comma_instead_of_closing_brace", doc(#"{"x": true,"#)),
        ("n_structure_double_array", doc("[][]")),
        ("n_structure_end_array", doc("]")),
        ("n_structure_incomplete_UTF8_BOM", doc(0xEF, 0xBB, "{}")),
        ("n_structure_lone-invalid-utf-8", doc(0xE5)),
        ("n_structure_lone-open-bracket", doc("[")),
        ("n_structure_no_data", doc()),
        ("n_structure_null-byte-outside-string", doc("[", 0x00, "]")),
        ("n_structure_number_with_trailing_garbage", doc("2@")),
        ("n_structure_object_followed_by_closing_object", doc("{}}")),
        ("n_structure_object_unclosed_no_value", doc(#"{"":"#)),
        ("n_structure_object_with_comment", doc(#"{"a":/*comment*/"b"}"#)),
        ("n_structure_object_with_trailing_garbage", doc(#"{"a": true} "x""#)),
        ("n_structure_open_array_apostrophe", doc("['")),
        ("n_structure_open_array_comma", doc("[,")),
        ("n_structure_open_array_open_object", doc("[{")),
        ("n_structure_open_array_open_string", doc(#"["a"#)),
        ("n_structure_open_array_string", doc(#"["a""#)),
        ("n_structure_open_object", doc("{")),
        ("n_structure_open_object_close_array", doc("{]")),
        ("n_structure_open_object_comma", doc("{,")),
        ("n_structure_open_object_open_array", doc("{[")),
        ("n_structure_open_object_open_string", doc(#"{"a"#)),
        ("n_structure_open_object_string_with_apostrophes", doc("{'a'")),
        ("n_structure_single_star", doc("*")),
        ("n_structure_trailing_#", doc(#"{"a":"b"}#{}"#)),
        ("n_structure_U+2060_word_joined", doc("[\u{2060}]")),
        ("n_structure_uescaped_LF_before_string", doc(#"[\u000A""]"#)),
        ("n_structure_unclosed_array", doc("[1")),
        ("n_structure_unclosed_array_partial_null", doc("[ false, nul")),
        ("n_structure_unclosed_array_unfinished_false", doc("[ true, fals")),
        ("n_structure_unclosed_array_unfinished_true", doc("[ false, tru")),
        ("n_structure_unclosed_object", doc(#"{"asd":"asd""#)),
        ("n_structure_unicode-identifier", doc("å")),
        ("n_structure_UTF8_BOM_no_data", doc(0xEF, 0xBB, 0xBF)),
        ("n_structure_whitespace_formfeed", doc("[", 0x0C, "]")),
        ("n_structure_100000_opening_arrays", Array(repeating: UInt8(ascii: "["), count: 100_000)),
        ("n_structure_open_array_object", Array(String(repeating: #"[{"":"#, count: 50_000).utf8)),
    ]

    /// Implementation-defined cases and what shoal does with each (true: accepted).
    static let implementationDefined: [(String, [UInt8], Bool)] = [
        ("i_number_double_huge_neg_exp", doc("[123.456e-789]"), true),  // underflows to 0.0
        ("i_number_huge_exp", doc("[0.4e00669999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999969999999006]"), false),
        ("i_number_neg_int_huge_exp", doc("[-1e+9999]"), false),
        ("i_number_pos_double_huge_exp", doc("[1.5e+9999]"), false),
        ("i_number_real_neg_overflow", doc("[-123123e100000]"), false),
        ("i_number_real_pos_overflow", doc("[123123e100000]"), false),
        ("i_number_real_underflow", doc("[123e-10000000]"), true),
        ("i_number_too_big_neg_int", doc("[-123123123123123123123123123123]"), true),
        ("i_number_too_big_pos_int", doc("[100000000000000000000]"), true),
        ("i_number_very_big_negative_int", doc("[-237462374673276894279832749832423479823246327846]"), true),
        ("i_object_key_lone_2nd_surrogate", doc(#"{"\uDFAA":0}"#), false),
        ("i_string_1st_surrogate_but_2nd_missing", doc(#"["\uDADA"]"#), false),
        ("i_string_1st_valid_surrogate_2nd_invalid", doc(#"["\uD888\u1234"]"#), false),
        ("i_string_UTF-16LE_with_BOM", doc(0xFF, 0xFE, "[", 0x00, "\"", 0x00, "\u{E9}", 0x00, "\"", 0x00, "]", 0x00), false),
        ("i_string_UTF-8_invalid_sequence", doc("[\"日ш", 0xFA, "\"]"), false),
        ("i_string_UTF8_surrogate_U+D800", doc("[\"", 0xED, 0xA0, 0x80, "\"]"), false),
        ("i_string_incomplete_surrogate_and_escape_valid", doc(#"["\uD800\n"]"#), false),
        ("i_string_incomplete_surrogate_pair", doc(#"["\uDd1ea"]"#), false),
        ("i_string_incomplete_surrogates_escape_valid", doc(#"["\uD800\uD800\n"]"#), false),
        ("i_string_invalid_lonely_surrogate", doc(#"["\ud800"]"#), false),
        ("i_string_invalid_surrogate", doc(#"["\ud800abc"]"#), false),
        ("i_string_invalid_utf-8", doc("[\"", 0xFF, "\"]"), false),
        ("i_string_inverted_surrogates_U+1D11E", doc(#"["\uDd1e\uD834"]"#), false),
        ("i_string_iso_latin_1", doc("[\"", 0xE9, "\"]"), false),
        ("i_string_lone_second_surrogate", doc(#"["\uDFAA"]"#), false),
        ("i_string_lone_utf8_continuation_byte", doc("[\"", 0x81, "\"]"), false),
        ("i_string_not_in_unicode_range", doc("[\"", 0xF4, 0xBF, 0xBF, 0xBF, "\"]"), false),
        ("i_string_overlong_sequence_2_bytes", doc("[\"", 0xC0, 0xAF, "\"]"), false),
        ("i_string_overlong_sequence_6_bytes", doc("[\"", 0xFC, 0x83, 0xBF, 0xBF, 0xBF, 0xBF, "\"]"), false),
        ("i_string_overlong_sequence_6_bytes_null", doc("[\"", 0xFC, 0x80, 0x80, 0x80, 0x80, 0x80, "\"]"), false),
        ("i_string_truncated-utf-8", doc("[\"", 0xE0, 0xFF, "\"]"), false),
        ("i_string_utf16BE_no_BOM", doc(0x00, "[", 0x00, "\"", 0x00, "\u{E9}", 0x00, "\"", 0x00, "]"), false),
        ("i_structure_500_nested_arrays", Array(String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).map { $0.asciiValue! }, false),
        ("i_structure_UTF-8_BOM_empty_object", doc(0xEF, 0xBB, 0xBF, "{}"), false),
        // Duplicate keys are `y_` in the suite (RFC 8259: names SHOULD be unique); shoal
        // rejects them like a Kubernetes API server under strict field validation.
        ("y_object_duplicated_key", doc(#"{"a":"b","a":"c"}"#), false),
        ("y_object_duplicated_key_and_value", doc(#"{"a":"b","a":"b"}"#), false),
    ]

    func testAcceptedDocumentsParseAndPrintStably() throws {
        for (name, bytes) in Self.accepted {
            let value: JSONValue
            do {
                value = try JSONValue.parse(bytes)
            } catch {
                XCTFail("\(name) rejected: \(error) in \(render(bytes))")
                continue
            }
            let printed = value.serialized()
            let reparsed = try JSONValue.parse(printed)
            XCTAssertTrue(identical(reparsed, value), "\(name): \(value) -> \(reparsed)")
            XCTAssertEqual(reparsed.serialized(), printed, "\(name): printing is not stable")
            XCTAssertTrue(identical(try JSONValue.parse(value.prettyPrinted()), value), name)
        }
    }

    func testRejectedDocumentsThrow() {
        for (name, bytes) in Self.rejected {
            guard let error = parseError(bytes) else {
                XCTFail("\(name) accepted: \(render(bytes))")
                continue
            }
            XCTAssertTrue(error.offsetBytes >= 0 && error.offsetBytes <= bytes.count, "\(name): \(error)")
        }
    }

    func testImplementationDefinedChoices() {
        for (name, bytes, accept) in Self.implementationDefined {
            let error = parseError(bytes)
            XCTAssertEqual(error == nil, accept, "\(name): \(error.map { "\($0)" } ?? "accepted")")
        }
    }

    func testAcceptedValuesAreTheOnesWritten() throws {
        XCTAssertEqual(try JSONValue.parse(#"[null, 1, "1", {}]"#), [nil, 1, "1", .object([:])])
        XCTAssertEqual(try JSONValue.parse(#"["\"\\\/\b\f\n\r\t"]"#), ["\"\\/\u{8}\u{C}\n\r\t"])
        XCTAssertEqual(try JSONValue.parse(#"{"foo\u0000bar": 42}"#), ["foo\u{0}bar": 42])
        XCTAssertEqual(try JSONValue.parse(#"["\u0060\u012a\u12AB"]"#), ["\u{60}\u{12A}\u{12AB}"])
        XCTAssertEqual(try JSONValue.parse(#"["\ud83d\ude39\ud83d\udc8d"]"#), ["😹💍"])
        XCTAssertEqual(try JSONValue.parse(#"["\uDBFF\uDFFF"]"#), ["\u{10FFFF}"])
        XCTAssertEqual(try JSONValue.parse("[123e65]"), [.double(123e65)])
        XCTAssertEqual(try JSONValue.parse("[20e1]"), [.double(200)])
        XCTAssertEqual(try JSONValue.parse("[1E22]"), [.double(1e22)])
        XCTAssertEqual(try JSONValue.parse("[123.456e78]"), [.double(123.456e78)])
        XCTAssertEqual(try JSONValue.parse(" \t\n\r42 \t\n\r"), 42)
        XCTAssertEqual(try JSONValue.parse("[123.456e-789]"), [.double(0)])
        XCTAssertEqual(try JSONValue.parse("[100000000000000000000]"), [.double(1e20)])
    }
}
