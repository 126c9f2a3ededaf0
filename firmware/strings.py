# The one catalog of UI text, Chinese and English; the language is a terminal parameter.
# Never build user-visible text elsewhere, and never put card data into a message.
#
# One message a line, "key|zh|en": "{}" is filled by text(key, lang, *args); no text may hold "|"
# or a line break (tests/portable/test_strings.py checks every line). The catalog is one string
# constant (the parser joins the lines), encoded once at import: a frozen image keeps the string in
# flash and the bytes share its data (a 16-byte object in RAM); from .mpy it costs its length once,
# where a dict of (zh, en) tuples cost 24 KB (its texts a qstr pool) and, frozen, its 1.4 KB dict
# (bench/README.md, strings.py). A lookup finds the key with bytes.find and decodes the one text it
# returns: it allocates that text and two small headers (80 bytes for a short text), nothing else.
LANGUAGES = ("zh", "en")

_CATALOG = (
    "\n"
    "idle_batch|批次 {}|Batch {}\n"
    "idle_online|网络正常|Link up\n"
    "idle_offline|无网络|Link down\n"
    "idle_signed_in|已签到|Signed in\n"
    "idle_sign_in_due|未签到|Not signed in\n"
    "idle_hint|确认键进入菜单|ENTER for menu\n"
    "params_damaged|参数曾损坏,请核对|Params damaged: check\n"
    "idle_batch_full|批次将满,请结算|Batch nearly full: settle\n"
    "settle_first|请先结算|Please settle first\n"
    "menu_title|主菜单|Main menu\n"
    "menu_sale|消费|Sale\n"
    "menu_void|消费撤销|Void\n"
    "menu_refund|退货|Refund\n"
    "menu_settle|结算|Settlement\n"
    "menu_reprint|重打印|Reprint\n"
    "menu_query|查询|Query\n"
    "menu_operators|操作员|Operators\n"
    "menu_admin|系统管理|Admin\n"
    "amount_prompt|请输入金额|Enter amount\n"
    "amount_zero|金额不能为零|Amount cannot be 0\n"
    "amount_over|超过单笔限额|Over the limit\n"
    "amount_limit|限额 {}|Limit {}\n"
    "card_prompt|请刷卡/插卡/挥卡|Swipe, insert or tap\n"
    "card_unreadable|读卡失败,请重试|Card read failed\n"
    "card_bad_number|无效卡号|Invalid card number\n"
    "card_expired|卡已过期|Card expired\n"
    "card_insert_chip|IC卡请插卡|Chip card: insert it\n"
    "card_number|卡号|Card number\n"
    "scan_accepted|已扫码|Code scanned\n"
    "not_available|功能暂未开通|Not available yet\n"
    "flow_unavailable|功能加载失败|Cannot load function\n"
    "press_any_key|按任意键返回|Press any key\n"
    "retry_card|请重新读卡|Present card again\n"
    "storage_corrupt|存储数据损坏|Stored data damaged\n"
    "storage_failed|存储故障|Storage failing\n"
    "counters_lost|流水号丢失,请到系统管理恢复|Counters lost: see Admin\n"
    "params_identity_lost|终端参数丢失|Terminal ID lost\n"
    "keys_damaged|密钥损坏|Keys damaged\n"
    "error|操作失败|Operation failed\n"
    # A device that raised HalError (firmware/terminal.py): "<device> fault" on the idle screen.
    "device_fault|{}故障|{} fault\n"
    "dev_keypad|键盘|Keypad\n"
    "dev_display|显示屏|Display\n"
    "dev_card_reader|读卡器|Card reader\n"
    "dev_signature_pad|签名板|Signature pad\n"
    "dev_link|通讯模块|Link\n"
    "dev_system|看门狗|Watchdog\n"
    "dev_pin_entry|密码键盘|PIN pad\n"
    # The clock-valid state and the service menu (系统管理, firmware/ui/service.py).
    "clock_not_set|时间未设置|Clock not set\n"
    "clock_set_hint|请在系统管理中设置|Set it in Admin\n"
    "svc_title|系统管理|Admin\n"
    "svc_set_time|设置日期时间|Set date and time\n"
    "svc_about|关于本机|About\n"
    "svc_faults|存储故障记录|Stored-data faults\n"
    "svc_recover|恢复流水号|Recover counters\n"
    "svc_time_prompt|输入年月日时分|Enter YYYYMMDDHHMM\n"
    "svc_time_invalid|日期时间无效|Not a valid time\n"
    "svc_time_set|时间已设置|Clock set\n"
    "svc_version|版本 {}|Version {}\n"
    "svc_built|编译日期 {}|Built {}\n"
    "svc_terminal|终端号 {}|Terminal {}\n"
    "svc_no_tmk|主密钥未装载|No master key\n"
    "svc_load_tmk|装载主密钥|Load master key\n"
    "svc_tmk_parts|分量个数 2 或 3|Components: 2 or 3\n"
    "svc_tmk_part|第 {} 分量 (共 {})|Component {} of {}\n"
    "svc_tmk_digits|已输入 {}/32|Typed {}/32\n"
    "svc_tmk_hex|功能键+1..6 = A..F|FUNC 1..6 = A..F\n"
    "svc_tmk_loaded|主密钥已装载|Master key loaded\n"
    "svc_tmk_cancelled|主密钥未更改|Master key unchanged\n"
    "svc_no_key_entry|本机不支持|Not on this terminal\n"
    "svc_no_keys|无工作密钥|No working keys\n"
    "svc_key_fault|密钥故障|Key fault\n"
    "svc_no_faults|无故障记录|No faults recorded\n"
    "svc_touch_cal|触摸屏校准|Calibrate touch\n"
    "svc_cal_tap|请点击十字 {}/3|Tap the cross {}/3\n"
    "svc_cal_failed|校准失败, 请重试|Failed: tap again\n"
    "svc_cal_done|校准已保存|Calibration saved\n"
    "svc_no_touch|本机无触摸屏|No touch screen\n"
    "svc_wifi|无线网络设置|Wi-Fi network\n"
    "wifi_not_here|本机无无线网络|No Wi-Fi here\n"
    "wifi_network|网络 {}|Network {}\n"
    "wifi_no_network|未设置网络|No network set\n"
    "wifi_connected|已连接|Connected\n"
    "wifi_connecting|正在连接|Connecting\n"
    "wifi_idle|未连接|Not connected\n"
    "wifi_wrong_password|密码错误|Wrong password\n"
    "wifi_no_ap|找不到网络|Network not found\n"
    "wifi_failed|连接失败|Failed to connect\n"
    "wifi_choose|确认键: 选择网络|ENTER: pick network\n"
    "wifi_forget_hint|清除键: 删除已存网络|CLEAR: forget it\n"
    "wifi_scanning|正在搜索网络...|Scanning...\n"
    "wifi_scan_failed|搜索失败|Scan failed\n"
    "wifi_none_found|未找到网络|No network found\n"
    "wifi_rescan|确认键重新搜索|ENTER to scan again\n"
    "wifi_password|输入数字密码|Numeric password\n"
    "wifi_password_hint|无密码直接按确认|Open network: ENTER\n"
    "wifi_password_short|至少8位或不输入|8 digits or none\n"
    "wifi_saved|已保存, 正在连接|Saved: joining\n"
    "wifi_forgotten|已删除, 重启后生效|Forgotten (restart)\n"
    "svc_echo|回响测试|Echo test\n"
    "echo_ok|链路正常|Link OK\n"
    "echo_round_trip|往返 {} 毫秒|Round trip {} ms\n"
    "echo_no_answer|主机无应答(超时)|No answer (timeout)\n"
    "echo_bad_answer|主机应答错误|Bad answer\n"
    "echo_link_broke|通讯中断|Link broke\n"
    "svc_counters_lost|流水号已丢失|Counters lost\n"
    "svc_next_trace|下一流水号 {}|Next trace {}\n"
    "svc_recover_what|流水号向前跳号|Skip trace numbers\n"
    "svc_confirm|确认键继续|ENTER to continue\n"
    "svc_confirm_again|再按确认键执行|ENTER again to do it\n"
    "svc_recovered|流水号已恢复|Counters recovered\n"
    # Host answers: firmware.host.codec.ProtocolError and the response codes (messages.response_key)
    "host_protocol|主机报文错误|Bad host message\n"
    "rc_00|交易成功|Approved\n"
    "rc_03|无效商户|Invalid merchant\n"
    "rc_05|不予承兑|Do not honour\n"
    "rc_12|无效交易|Invalid transaction\n"
    "rc_13|无效金额|Invalid amount\n"
    "rc_14|无效卡号|Invalid card number\n"
    "rc_25|找不到原交易|Original not found\n"
    "rc_30|报文格式错误|Format error\n"
    "rc_35|超出可退货金额|Refund over original\n"
    "rc_41|挂失卡|Lost card\n"
    "rc_43|被窃卡|Stolen card\n"
    "rc_51|余额不足|Insufficient funds\n"
    "rc_54|卡已过期|Expired card\n"
    "rc_55|密码错误|Incorrect PIN\n"
    "rc_57|持卡人无此交易权限|Not allowed for card\n"
    "rc_58|终端无此交易权限|Not allowed here\n"
    "rc_61|超出金额限制|Amount over limit\n"
    "rc_75|密码错误次数超限|PIN tries exceeded\n"
    "rc_91|发卡行不能操作|Issuer unavailable\n"
    "rc_94|重复交易|Duplicate\n"
    "rc_96|系统故障|System malfunction\n"
    "rc_98|发卡行无应答|Issuer timed out\n"
    "rc_A0|MAC校验错,请重签到|MAC error: sign in\n"
    "rc_other|交易失败 {}|Declined {}\n"
    # The online sale (firmware/online.py, firmware/ui/sale.py)
    "pinentry_prompt|请输入密码|Enter PIN\n"
    "pinentry_optional|无密码请按确认|No PIN: press ENTER\n"
    "pinentry_cancelled|密码输入已取消|PIN entry cancelled\n"
    "pinentry_timed_out|密码输入超时|PIN entry timed out\n"
    "pinentry_no_pad|需要密码键盘|PIN pad needed\n"
    "auth_signing_in|正在签到|Signing in\n"
    "auth_reversing|正在冲正|Sending reversal\n"
    "auth_connecting|正在连接主机|Connecting\n"
    "auth_sending|正在发送|Sending\n"
    "auth_receiving|等待主机应答|Waiting for host\n"
    "auth_countdown|{} 秒|{} s\n"
    "auth_cancel_hint|取消键中止|CANCEL to stop\n"
    "signed_in|签到成功|Signed in\n"
    "signin_failed|签到失败|Sign-in failed\n"
    "signin_keys|工作密钥校验失败|Working keys refused\n"
    "signin_no_time|主机时间无效|Host time not valid\n"
    "online_cancelled|交易已取消|Cancelled\n"
    "online_interrupted|交易中断,请重试|Interrupted: retry\n"
    "host_unreachable|无法连接主机|Host unreachable\n"
    "host_no_answer|主机无应答,将冲正|No answer: reversal\n"
    "host_broken|通讯中断,将冲正|Link broke: reversal\n"
    "host_garbage|应答报文错误,将冲正|Bad answer: reversal\n"
    "host_mismatch|应答不符,将冲正|Mismatch: reversal\n"
    "host_bad_mac|MAC错,将冲正并签到|MAC error: reversal\n"
    "txn_not_recorded|记录失败,将冲正|Not saved: reversal\n"
    "reversal_pending|冲正未完成,请重试|Reversal due: retry\n"
    "reversal_gave_up|冲正失败|Reversal failed\n"
    "call_support|请联系客服|Call support\n"
    "audit_full|冲正故障过多|Too many faults\n"
    "result_again|上笔交易结果|Last transaction\n"
    "result_trace|凭证号 {}|Trace {}\n"
    "result_rrn|参考号 {}|RRN {}\n"
    "result_auth|授权码 {}|Auth code {}\n"
    "result_in_doubt|结果未知,待冲正|In doubt: reversal\n"
    "result_reversed|已冲正,未扣款|Reversed, no charge\n"
    "result_not_sent|未发送,未扣款|Not sent, no charge\n"
    # A dead part of the card reader (hal.cards.CardSources): the others go on reading.
    "card_source_dead|读卡故障:{}|Reader fault: {}\n"
    "cardsrc_swipe|磁条|stripe\n"
    "cardsrc_insert|芯片|chip\n"
    "cardsrc_tap|非接|tap\n"
    "cardsrc_scan|扫码|scan\n"
).encode()


def text(key, lang, *args):
    """The message `key` in language `lang` ("zh" or "en"); an unknown key shows as itself."""
    c = _CATALOG
    k = key.encode()
    if b"|" in k or b"\n" in k:  # not a key: it would match across a line's fields
        return key
    n = len(k)
    i = c.find(k)
    # A line's key follows a line break (10) and is followed by "|" (124); the catalog starts with
    # a line break, so i == 0 is no key. Anything else is the key inside another key or a text.
    while i > 0 and not (c[i - 1] == 10 and c[i + n] == 124):
        i = c.find(k, i + 1)
    if i <= 0:
        return key
    start = i + n + 1
    stop = c.find(b"|", start)
    if lang == "en":
        start = stop + 1
        stop = c.find(b"\n", start)
    s = c[start:stop].decode()
    return s.format(*args) if args else s


def keys():
    """All catalog keys, sorted (for tests)."""
    found = []
    for line in _CATALOG.decode().split("\n"):
        if line:
            found.append(line.split("|")[0])
    return sorted(found)
