-- Rows inserted straight into raw.* for the dbt integration tests (the
-- loader's normalised form). Personal data is deliberately present so the
-- tests can prove none of it reaches staging, warehouse or marts.
insert into raw.entity_snapshot (_load_id, _business_date, _source_file, _line_no, uscc, entity_name, entity_type_code, industry_code, region_code, registered_capital, established_date, channel, registration_status, legal_representative) values
(1, '2024-01-01', 'entity_snapshot.csv', 2, '913301061111111111', '杭州甲科技有限公司', '1130', 'F5292', '330106', 100, '2015-03-01', '窗口', '存续', '张三丰'),
(1, '2024-01-01', 'entity_snapshot.csv', 3, '923301062222222222', '西湖区王小二面馆', null, '6210', '330106', null, '2019-06-01', '窗口', '在业', '王小二'),
(1, '2024-01-01', 'entity_snapshot.csv', 4, '933301063333333333', '杭州丙农民专业合作社', '9100', '0141', '330106', 50, '2012-01-01', '窗口', '吊销', '赵六'),
(1, '2024-01-01', 'entity_snapshot.csv', 5, '913301067777777777', '杭州丁贸易有限公司', '1100', '5199', '330106', 10, '2010-01-01', '窗口', '注销', '钱七');

insert into raw.registration_events (_load_id, _business_date, _source_file, _line_no, event_id, uscc, entity_name, entity_type_code, industry_code, region_code, registration_authority, registered_capital, established_date, event_type, approved_date, previous_entity_type_code, channel, legal_representative) values
(2, '2024-01-02', 'registration_events.csv', 2, 'EV1', '913301064444444444', '杭州戊软件有限公司', '1151', '6513', '330106', '西湖区市场监管局', 100, '2024-01-02', '设立', '2024-01-02', null, '全程电子化', '孙八'),
(2, '2024-01-02', 'registration_events.csv', 3, 'EV2', '913301061111111111', '杭州甲科技有限公司', null, '6210', null, '西湖区市场监管局', null, '2015-03-01', '变更', '2024-01-02', null, '窗口', '张三丰'),
(3, '2024-01-03', 'registration_events.csv', 2, 'EV3', '933301063333333333', '杭州丙农民专业合作社', '9100', '0141', '330106', '西湖区市场监管局', null, '2012-01-01', '注销', '2024-01-03', null, '窗口', '赵六'),
(3, '2024-01-03', 'registration_events.csv', 3, 'EV1', '913301064444444444', '杭州戊软件有限公司', '1151', '6513', '330106', '西湖区市场监管局', 100, '2024-01-02', '设立', '2024-01-02', null, '窗口', '孙八'),
(3, '2024-01-03', 'registration_events.csv', 4, 'EV5', '915555555555555555', '杭州己餐饮有限公司', '1130', '6210', '330106', '西湖区市场监管局', 30, '2024-01-03', '变更', '2024-01-03', '9500', '窗口', '周九');

insert into raw.annual_reports (_load_id, _business_date, _source_file, _line_no, uscc, report_year, submitted_date, entity_type_code, region_code) values
(4, '2024-03-01', 'annual_reports.csv', 2, '913301061111111111', 2023, '2024-03-01', '1130', '330106'),
(4, '2024-03-01', 'annual_reports.csv', 3, '923301062222222222', 2023, '2024-03-01', null, '330106');

insert into raw.sampling_results (_load_id, _business_date, _source_file, _line_no, sample_no, program, task_level, product_category, sample_name, stage, sampled_uscc, sampled_entity_name, region_code, sampled_date, report_date, verdict, failed_items, lab, disposal_status, disposal_date) values
(5, '2024-01-02', 'sampling_results.csv', 2, 'DC24330106001', '食品安全监督抽检', '省', '粮食加工品', '大米', '流通', '913301061111111111', '杭州甲科技有限公司', '330106', '2023-12-10', '2024-01-02', '合格', null, '浙江省食品检验院', null, null),
(5, '2024-01-02', 'sampling_results.csv', 3, 'DC24330106002', '食品安全监督抽检', '县区', '餐饮食品', '凉拌菜', '餐饮', null, '西湖区王小二面馆', '330106', '2023-12-12', '2024-01-02', '不合格', '大肠菌群', '杭州检测中心', '处置中', null),
(6, '2024-01-05', 'sampling_results.csv', 2, 'DC24330106002', '食品安全监督抽检', '县区', '餐饮食品', '凉拌菜', '餐饮', null, '西湖区王小二面馆', '330106', '2023-12-12', '2024-01-02', '不合格', '大肠菌群', '杭州检测中心', '已完成', '2024-01-05');

insert into raw.rapid_tests (_load_id, _business_date, _source_file, _line_no, test_id, station, region_code, sample_name, test_item, test_date, result, disposal, disposed_kg) values
(7, '2024-01-02', 'rapid_tests.csv', 2, 'KJ001', '文三路农贸市场', '330106', '青菜', '有机磷和氨基甲酸酯类农药', '2024-01-02', '阴性', null, null),
(7, '2024-01-02', 'rapid_tests.csv', 3, 'KJ002', '文三路农贸市场', '330106', '韭菜', '有机磷和氨基甲酸酯类农药', '2024-01-02', '阳性', '销毁', 5.5);

insert into raw.equipment_registry (_load_id, _business_date, _source_file, _line_no, equipment_code, category_code, variety, user_uscc, user_name, region_code, use_certificate_no, registered_date, status, next_inspection_due, key_supervision, pipeline_length_m) values
(8, '2024-01-02', 'equipment_registry.csv', 2, 'EQ0001', '3110', '曳引驱动乘客电梯', '913301061111111111', '杭州甲科技有限公司', '330106', '梯11浙A00001', '2023-05-01', '在用', '2024-05-01', true, null),
(8, '2024-01-02', 'equipment_registry.csv', 3, 'EQ0002', '8210', '燃气管道', '913301061111111111', '杭州甲科技有限公司', '330106', null, '2023-06-01', '在用', '2026-06-01', false, 120.5),
(9, '2024-02-01', 'equipment_registry.csv', 2, 'EQ0001', '3110', '曳引驱动乘客电梯', '913301061111111111', '杭州甲科技有限公司', '330106', '梯11浙A00001', '2023-05-01', '停用', null, true, null);

insert into raw.equipment_inspections (_load_id, _business_date, _source_file, _line_no, inspection_id, equipment_code, inspection_type, inspection_date, conclusion, hazards_found, directive_no, case_opened, fine_amount, next_inspection_due) values
(10, '2024-01-10', 'equipment_inspections.csv', 2, 'IN001', 'EQ0001', '定期检验', '2024-01-10', '合格', 0, null, false, 0, '2025-01-10'),
(10, '2024-01-10', 'equipment_inspections.csv', 3, 'IN002', 'EQ0999', '监督检查', '2024-01-10', '不合格', 1, 'ZL2024001', true, 5000, null);

insert into raw.equipment_hazards (_load_id, _business_date, _source_file, _line_no, hazard_id, inspection_id, equipment_code, severity, found_date, rectify_deadline, rectified_date) values
(10, '2024-01-10', 'equipment_hazards.csv', 2, 'HZ001', 'IN002', 'EQ0999', '一般', '2024-01-10', '2024-01-20', null),
(11, '2024-01-18', 'equipment_hazards.csv', 2, 'HZ001', 'IN002', 'EQ0999', '一般', '2024-01-10', '2024-01-20', '2024-01-18');

-- C1: 投诉 received Friday 2024-09-27, accepted on the make-up Sunday 2024-09-29,
-- closed on the make-up Saturday 2024-10-12 (7 working days). C2: 举报 without
-- 办理期限: due 15 working days after 2024-09-30 = 2024-10-25; closed 10-28, late.
-- C3: 咨询 with a work-order due date. C4: 不予受理.
insert into raw.complaints (_load_id, _business_date, _source_file, _line_no, ticket_id, channel, ticket_type, received_at, accepted_date, closed_date, status, due_date, category, respondent_uscc, respondent_name, region_code, amount_involved, recovered_amount, outcome, complainant_name, complainant_phone, complainant_id_no, content, complainant_hash) values
(12, '2024-09-27', 'complaints.csv', 2, 'TS001', '12315平台', '投诉', '2024-09-27 10:00', null, null, '待受理', null, '食品类', '923301062222222222', '西湖区王小二面馆', '330106', 200, null, null, '李四', '13812345678', '11010519491231002X', '李四投诉，电话13812345678', 'hash-a'),
(13, '2024-09-29', 'complaints.csv', 2, 'TS001', '12315平台', '投诉', '2024-09-27 10:00', '2024-09-29', null, '已受理', null, '食品类', '923301062222222222', '西湖区王小二面馆', '330106', 200, null, null, '李四', '13812345678', '11010519491231002X', '李四投诉，电话13812345678', 'hash-a'),
(14, '2024-10-12', 'complaints.csv', 2, 'TS001', '12315平台', '投诉', '2024-09-27 10:00', '2024-09-29', '2024-10-12', '已办结', null, '食品类', '923301062222222222', '西湖区王小二面馆', '330106', 200, 150, '调解成功', '李四', '13812345678', '11010519491231002X', '李四投诉，电话13812345678', 'hash-a'),
(15, '2024-09-30', 'complaints.csv', 2, 'JB001', '12345热线', '举报', '2024-09-30 09:00', '2024-09-30', null, '已受理', null, '互联网服务', null, '某网店', '330106', null, null, null, '王五', '13987654321', '34052419800101001X', '举报某网店，联系13987654321', 'hash-b'),
(16, '2024-10-28', 'complaints.csv', 2, 'JB001', '12345热线', '举报', '2024-09-30 09:00', '2024-09-30', '2024-10-28', '已办结', null, '互联网服务', null, '某网店', '330106', null, null, '不予立案', '王五', '13987654321', '34052419800101001X', '举报某网店，联系13987654321', 'hash-b'),
(16, '2024-10-28', 'complaints.csv', 3, 'ZX001', '12315平台', '咨询', '2024-10-08 08:30', '2024-10-08', '2024-10-09', '已办结', '2024-10-10', '金融服务', null, null, '330106', null, null, '已答复', '陈小明', '13700001111', null, '咨询', 'hash-c'),
(16, '2024-10-28', 'complaints.csv', 4, 'TS002', '信访', '投诉', '2024-10-20 08:30', null, null, '不予受理', null, '服装鞋帽类', null, null, '330105', null, null, null, '李四', '13812345678', '11010519491231002X', '再次投诉', 'hash-a');
